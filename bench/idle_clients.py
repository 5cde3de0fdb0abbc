#!/usr/bin/env python3
"""Open N authenticated PostgreSQL connections and hold them idle (for bench/memory.sh).

    bench/idle_clients.py --port 56432 --clients 10000 [--user postgres --password secret --db bench]
                          [--parallel 64] [--hold SECONDS] [--query 'select 1']

Speaks the v3 startup and authenticates with whatever the server asks: SCRAM-SHA-256 (no channel
binding), MD5 or cleartext. A connection counts once it has seen ReadyForQuery (with --query, once
it has also run that query once: idle as a client between its queries is). When every connection
has either succeeded or failed it prints one line

    READY connected=<n> failed=<m> seconds=<t> [first_error=<text>]

to stdout, then holds the connections (sending nothing) until --hold seconds pass, stdin closes or
it gets SIGTERM/SIGINT, then sends Terminate and exits. Python 3 standard library only.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import signal
import struct
import sys
import time

_salted_cache = {}


def _msg(code, payload):
    return code + struct.pack("!I", len(payload) + 4) + payload


async def _read_msg(reader):
    head = await reader.readexactly(5)
    code, length = head[:1], struct.unpack("!I", head[1:])[0]
    return code, await reader.readexactly(length - 4)


def _error_text(payload):
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return f"{fields.get('S', 'ERROR')} {fields.get('C', '')}: {fields.get('M', '')}"


async def _query(reader, writer, sql):
    writer.write(_msg(b"Q", sql.encode() + b"\0"))
    await writer.drain()
    while True:
        code, payload = await _read_msg(reader)
        if code == b"E":
            raise RuntimeError(_error_text(payload))
        if code == b"Z":
            return


async def connect_one(args):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    try:
        params = b"user\0" + args.user.encode() + b"\0database\0" + args.db.encode() + b"\0\0"
        body = struct.pack("!I", 196608) + params
        writer.write(struct.pack("!I", len(body) + 4) + body)
        await writer.drain()
        nonce = client_first_bare = None
        while True:
            code, payload = await _read_msg(reader)
            if code == b"E":
                raise RuntimeError(_error_text(payload))
            if code == b"Z":
                if args.query:  # once, then idle: what a client that has worked holds between its queries
                    await _query(reader, writer, args.query)
                return reader, writer
            if code != b"R":
                continue  # ParameterStatus, BackendKeyData, NoticeResponse
            kind = struct.unpack("!I", payload[:4])[0]
            if kind == 0:  # AuthenticationOk
                continue
            if kind == 3:  # cleartext
                writer.write(_msg(b"p", args.password.encode() + b"\0"))
            elif kind == 5:  # md5
                inner = hashlib.md5(args.password.encode() + args.user.encode()).hexdigest().encode()
                writer.write(_msg(b"p", b"md5" + hashlib.md5(inner + payload[4:8]).hexdigest().encode() + b"\0"))
            elif kind == 10:  # SASL: mechanism list
                if b"SCRAM-SHA-256\0" not in payload[4:]:
                    raise RuntimeError(f"no SCRAM-SHA-256 in {payload[4:]!r}")
                nonce = base64.b64encode(os.urandom(18)).decode()
                client_first_bare = f"n=,r={nonce}"
                first = ("n,," + client_first_bare).encode()
                writer.write(_msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first))
            elif kind == 11:  # SASLContinue: server-first-message
                server_first = payload[4:].decode()
                attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
                if not attrs["r"].startswith(nonce):
                    raise RuntimeError("server nonce does not extend ours")
                salt, iters = base64.b64decode(attrs["s"]), int(attrs["i"])
                key = (salt, iters)
                if key not in _salted_cache:
                    _salted_cache[key] = hashlib.pbkdf2_hmac("sha256", args.password.encode(), salt, iters)
                salted = _salted_cache[key]
                client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
                stored_key = hashlib.sha256(client_key).digest()
                without_proof = f"c=biws,r={attrs['r']}"
                auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
                signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
                proof = bytes(a ^ b for a, b in zip(client_key, signature))
                final = f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
                writer.write(_msg(b"p", final))
            elif kind == 12:  # SASLFinal (server signature; not verified here)
                continue
            else:
                raise RuntimeError(f"unsupported authentication request {kind}")
            await writer.drain()
    except BaseException:
        writer.close()
        raise


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, default=10000)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--password", default=os.environ.get("PGPASSWORD", "secret"))
    ap.add_argument("--db", default="bench")
    ap.add_argument("--parallel", type=int, default=64, help="handshakes in flight at once")
    ap.add_argument("--query", default="", help="a simple query each client runs once after login, then idles")
    ap.add_argument("--hold", type=float, default=0, help="seconds to hold after READY (0: until stdin/signal)")
    args = ap.parse_args()

    sem = asyncio.Semaphore(args.parallel)
    conns, errors = [], []

    async def one():
        async with sem:
            try:
                conns.append(await asyncio.wait_for(connect_one(args), 60))
            except Exception as e:  # noqa: BLE001 — every failure is counted and the first one shown
                errors.append(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)

    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(args.clients)))
    line = f"READY connected={len(conns)} failed={len(errors)} seconds={time.monotonic() - t0:.1f}"
    if errors:
        line += f" first_error={errors[0]!r}"
    print(line, flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.hold > 0:
        loop.call_later(args.hold, stop.set)
    else:
        loop.add_reader(sys.stdin.fileno(), lambda: (sys.stdin.buffer.raw.read(4096) or stop.set()) and None)
    await stop.wait()
    for _, w in conns:
        try:
            w.write(_msg(b"X", b""))
            w.close()
        except Exception:  # noqa: BLE001
            pass
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main())
