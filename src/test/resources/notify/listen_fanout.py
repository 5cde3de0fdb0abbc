"""psycopg 3, default settings (autocommit, as applications that LISTEN use it): CLIENTS connections through
pgferry each LISTEN on one of CHANNELS channels; ROUNDS rounds of one NOTIFY per channel follow, sent in turn by
two other clients through pgferry (NOTIFY in a transaction; pg_notify with parameters) and by a direct connection.
Each listener reads with conn.notifies() and must get exactly its channel's notifications, in order, with the
payload and the sender's pid. Prints "ok N clients, M notifications" or what differed.
Arguments: pgferry host, port, direct host, port, user, password, database, channel prefix, clients, channels, rounds.
"""
import sys, threading, time
import psycopg

(host, port, dhost, dport, user, password, db, prefix) = sys.argv[1:9]
clients, channels, rounds = (int(x) for x in sys.argv[9:12])


def connect(h, p, app=None):
    kw = {"application_name": app} if app else {}
    return psycopg.connect(host=h, port=p, user=user, password=password, dbname=db, autocommit=True, **kw)


listeners = []
for i in range(clients):
    c = connect(host, port)
    c.execute(f"LISTEN {prefix}{i % channels}")
    listeners.append(c)
print("listening", flush=True)

expected = {ch: [] for ch in range(channels)}
got = [[] for _ in range(clients)]


def read(i):
    want = rounds
    for n in listeners[i].notifies():
        got[i].append((n.channel, n.payload, n.pid))
        if len(got[i]) >= want:
            break


threads = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(clients)]
for t in threads:
    t.start()

a, b = connect(host, port), connect(host, port)
direct = connect(dhost, dport, "notify direct")
for k in range(rounds):
    payload = lambda ch: f"round {k} ch {ch} ‘quoted’ é"
    sender = k % 3
    if sender == 2:
        pid = direct.info.backend_pid
        for ch in range(channels):
            direct.execute("select pg_notify(%s, %s)", (f"{prefix}{ch}", payload(ch)))
    else:
        conn = a if sender == 0 else b
        with conn.transaction():
            pid = conn.execute("select pg_backend_pid()").fetchone()[0]
            for ch in range(channels):
                if sender == 0:
                    conn.execute(f"NOTIFY {prefix}{ch}, '" + payload(ch).replace("'", "''") + "'")
                else:
                    conn.execute("select pg_notify(%s, %s)", (f"{prefix}{ch}", payload(ch)))
    for ch in range(channels):
        expected[ch].append((f"{prefix}{ch}", payload(ch), pid))

deadline = time.monotonic() + 60
for t in threads:
    t.join(max(0.0, deadline - time.monotonic()))
time.sleep(0.5)
failures = []
total = 0
for i, c in enumerate(listeners):
    if threads[i].is_alive():
        failures.append(f"client {i}: got {len(got[i])} of {rounds} within 60 s: {got[i][:3]}")
        continue
    extra = []
    c.add_notify_handler(lambda n: extra.append((n.channel, n.payload, n.pid)))
    c.execute("select 1")  # reads anything that came after the last expected one
    if got[i] + extra != expected[i % channels]:
        failures.append(f"client {i}: got {got[i] + extra} expected {expected[i % channels]}")
    total += len(got[i])
for c in [a, b, direct]:
    c.close()
if failures:
    print(f"{len(failures)} clients differ; first: " + "\n".join(failures[:3]))
else:
    print(f"ok {clients} clients, {total} notifications")
for i, c in enumerate(listeners):
    if not threads[i].is_alive():
        c.close()
