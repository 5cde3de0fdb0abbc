#!/usr/bin/env python3
"""LISTEN fan-out through a pooler, measured with psycopg 3 (bench/listen-fanout.sh runs it).

CLIENTS connections to HOST:PORT each LISTEN on one of CHANNELS channels and wait, idle, as listeners do. A sender
process on a direct connection to PostgreSQL (DIRECT_PORT) then sends
  0. warm-up: WARMUP_SECS as the paced phase, not timed (a JIT compiles, caches fill);
  1. paced:  RATE notifications a second for PACED_SECS, round-robin over the channels, one per autocommit NOTIFY;
  2. blast:  for BLAST_SECS, as fast as it can, transactions of one NOTIFY per channel.
The payload is "phase:seq:time_ns"; one thread reads all listeners with a selector (libpq's consume_input/notifies),
so latency is send -> received by the client. A sampler counts database DB's backends in pg_stat_activity (the
sender's and its own aside) every 100 ms. Prints one line of key=value.
"""
import argparse, multiprocessing, selectors, statistics, threading, time
import psycopg

ap = argparse.ArgumentParser()
ap.add_argument("--label", required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--direct-port", type=int, default=55432)
ap.add_argument("--db", default="notifybench")
ap.add_argument("--user", default="postgres")
ap.add_argument("--password", default="secret")
ap.add_argument("--clients", type=int, default=200)
ap.add_argument("--channels", type=int, default=10)
ap.add_argument("--rate", type=int, default=100)
ap.add_argument("--warmup-secs", type=float, default=3)
ap.add_argument("--paced-secs", type=float, default=10)
ap.add_argument("--blast-secs", type=float, default=10)
a = ap.parse_args()
SENDER_APP = "listen bench sender"


def connect(port, db=a.db, app=None):
    kw = {"application_name": app} if app else {}
    return psycopg.connect(host=a.host, port=port, user=a.user, password=a.password, dbname=db, autocommit=True,
                           connect_timeout=10, **kw)


def sender(out):
    """Runs in a process of its own: the paced phase, then the blast; reports (blast start, sent per phase)."""
    c = connect(a.direct_port, app=SENDER_APP)
    seq, sent = 0, {"w": 0, "p": 0, "b": 0}
    for phase, secs in (("w", a.warmup_secs), ("p", a.paced_secs)):
        t0 = time.monotonic()
        for i in range(int(a.rate * secs)):
            wait = t0 + i / a.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            c.execute("select pg_notify(%s, %s)", (f"ch{i % a.channels}", f"{phase}:{seq}:{time.time_ns()}"))
            seq += 1
            sent[phase] += 1
    time.sleep(1)
    blast_start = time.time_ns()
    end = time.monotonic() + a.blast_secs
    while time.monotonic() < end:
        now = time.time_ns()
        with c.transaction():
            for ch in range(a.channels):
                c.execute(f"NOTIFY ch{ch}, 'b:{seq}:{now}'")
                seq += 1
        sent["b"] += a.channels
    c.close()
    out.send((blast_start, sent))


most = 0
sampling = True


def sample():
    global most
    with connect(a.direct_port, db="postgres") as c:
        while sampling:
            n = c.execute("select count(*) from pg_stat_activity where datname = %s and backend_type = 'client backend'"
                          " and application_name <> %s", (a.db, SENDER_APP)).fetchone()[0]
            most = max(most, n)
            time.sleep(0.1)


threading.Thread(target=sample, daemon=True).start()
listeners, errors = [], []
for i in range(a.clients):
    try:
        c = connect(a.port)
        c.execute(f"LISTEN ch{i % a.channels}")
        listeners.append((i, c))
    except psycopg.Error as e:
        errors.append(str(e).strip().splitlines()[0])
time.sleep(1)

sel = selectors.DefaultSelector()
for i, c in listeners:
    sel.register(c.pgconn.socket, selectors.EVENT_READ, (i, c))
lat = {"w": [], "p": [], "b": []}
own = {i: 0 for i, _ in listeners}
foreign = closed = 0
blast_recv_last = 0
parent, child = multiprocessing.Pipe()
proc = multiprocessing.Process(target=sender, args=(child,))
proc.start()
deadline = None
while True:
    if deadline is None and not proc.is_alive():
        deadline = time.monotonic() + 3  # drain what is still on its way
    if deadline is not None and time.monotonic() > deadline:
        break
    for key, _ in sel.select(0.2):
        i, c = key.data
        try:
            c.pgconn.consume_input()
        except psycopg.Error:
            sel.unregister(key.fileobj)
            closed += 1
            continue
        now = time.time_ns()
        while (n := c.pgconn.notifies()) is not None:
            phase, _, sent_ns = n.extra.decode().split(":")
            lat[phase].append(now - int(sent_ns))
            if n.relname.decode() == f"ch{i % a.channels}":
                own[i] += 1
            else:
                foreign += 1
            if phase == "b":
                blast_recv_last = max(blast_recv_last, now)
blast_start, sent = parent.recv()
proc.join()
sampling = False
per_client_expected = {p: sent[p] // a.channels for p in sent}
expected = sum(per_client_expected.values())
got = sorted(own.values())


def pct(xs, q):
    if not xs:
        return "-"
    xs = sorted(xs)
    return f"{xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6:.2f}"


blast_secs = (blast_recv_last - blast_start) / 1e9 if blast_recv_last else 0
print(" ".join(f"{k}={v}" for k, v in {
    "target": a.label,
    "clients_connected": len(listeners),
    "connect_errors": len(errors),
    "backends_max": most,
    "expected_per_client": expected,
    "clients_complete": sum(1 for v in got if v == expected),
    "received_min": got[0] if got else 0,
    "received_median": statistics.median(got) if got else 0,
    "foreign_channel": foreign,
    "closed": closed,
    "paced_rate": a.rate,
    "paced_p50_ms": pct(lat["p"], 0.5),
    "paced_p99_ms": pct(lat["p"], 0.99),
    "blast_notifies_sent": sent["b"],
    "blast_deliveries": len(lat["b"]),
    "blast_deliveries_per_s": f"{len(lat['b']) / blast_secs:.0f}" if blast_secs else "-",
    "blast_p50_ms": pct(lat["b"], 0.5),
    "blast_p99_ms": pct(lat["b"], 0.99),
}.items()))
if errors:
    print("first connect error:", errors[0])
