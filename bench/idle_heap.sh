#!/usr/bin/env bash
# bench/idle_heap.sh — what pgferry's heap holds per idle client, by class:
#
#     bench/idle_heap.sh [OUTDIR]     # N=10000 (BENCH_IDLE_CLIENTS) SCRAM clients, out: /tmp/pgferry-idle-heap.XXXX
#     BENCH_IDLE_QUERY='select 1' bench/idle_heap.sh   # clients that ran one query each, then idle
#
# Starts the packaged jar as bench/memory.sh does (bench/lib.sh's FERRY_JVM, BENCH_FERRY_JVM to change), takes a full
# GC and `jcmd GC.class_histogram` before and with N clients of bench/idle_clients.py held idle, and prints the live
# heap growth per client by class (hist-before.txt, hist-after.txt, diff.txt in OUTDIR) and the VmRSS growth per
# client. BENCH_HEAP_DUMP=1 also keeps `jcmd GC.heap_dump` (OUTDIR/dump.hprof) taken with the clients.
# Knobs: BENCH_IDLE_CLIENTS=10000 BENCH_JAR BENCH_FERRY_PORT=6543 BENCH_FERRY_HTTP_PORT=18090 BENCH_POOL=20 PGE_PORT=55432
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
. "$BENCH_DIR/lib.sh"
N=${BENCH_IDLE_CLIENTS:-10000}
JAR=${BENCH_JAR:-target/quarkus-app/quarkus-run.jar}; [[ $JAR = /* ]] || JAR=$REPO/$JAR
OUT=${1:-$(mktemp -d /tmp/pgferry-idle-heap.XXXXXX)}; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/pgferry-idle-heap-work.XXXXXX)
export PGE_PORT=${PGE_PORT:-55432} PGPASSWORD=secret
PORT=${BENCH_FERRY_PORT:-6543} HTTP=${BENCH_FERRY_HTTP_PORT:-18090}
HOLDER_PID=""
command -v jcmd >/dev/null || die "jcmd missing"
raise_fd_limit
[ "$(ulimit -n)" -gt $((N + 100)) ] || die "open-file limit $(ulimit -n) is below $N clients (run as root)"
trap '[ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null; stop_pgferry' EXIT
pick_pgdir
"$PGDIR/pgenv.sh" start || die "pgenv.sh start failed"
start_pgferry "$JAR" "$PORT" "$HTTP" "${BENCH_POOL:-20}" "$PGE_PORT" || die "pgferry: $FERRY_SKIP"
sleep 2
jcmd "$FERRY_PID" GC.run >/dev/null; sleep 1
jcmd "$FERRY_PID" GC.class_histogram >"$OUT/hist-before.txt"
before=$(rss_bytes "$FERRY_PID")
mkfifo "$WORK/hold.fifo"
"$PYTHON" "$BENCH_DIR/idle_clients.py" --port "$PORT" --clients "$N" ${BENCH_IDLE_QUERY:+--query "$BENCH_IDLE_QUERY"} \
    <"$WORK/hold.fifo" >"$WORK/holder.out" 2>&1 &
HOLDER_PID=$!
exec 9>"$WORK/hold.fifo"
for _ in $(seq 2400); do
  grep -q '^READY' "$WORK/holder.out" && break
  kill -0 "$HOLDER_PID" 2>/dev/null || break
  sleep 0.5
done
say "$(grep -m1 '^READY' "$WORK/holder.out" || tail -3 "$WORK/holder.out")"
sleep "${BENCH_SETTLE:-5}"
after=$(rss_bytes "$FERRY_PID")
jcmd "$FERRY_PID" GC.run >/dev/null; sleep 1
jcmd "$FERRY_PID" GC.class_histogram >"$OUT/hist-after.txt"
[ "${BENCH_HEAP_DUMP:-0}" = 1 ] && jcmd "$FERRY_PID" GC.heap_dump "$OUT/dump.hprof" >/dev/null
conn=$(grep -oP 'connected=\K[0-9]+' "$WORK/holder.out"); [ "${conn:-0}" -gt 0 ] || die "no client connected"
echo "VmRSS before=$before with=$after growth per client=$(( (after - before) / conn )) B (clients $conn)" | tee "$OUT/rss.txt"
"$PYTHON" - "$OUT" "$conn" <<'PY' | tee "$OUT/diff.txt"
import re, sys
out, n = sys.argv[1], int(sys.argv[2])
def load(f):
    d = {}
    for line in open(f):
        m = re.match(r'\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)', line)
        if m:
            d[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return d
b, a = load(out + '/hist-before.txt'), load(out + '/hist-after.txt')
rows = sorted(((a.get(k, (0, 0))[1] - b.get(k, (0, 0))[1], a.get(k, (0, 0))[0] - b.get(k, (0, 0))[0], k)
               for k in set(a) | set(b)), reverse=True)
print(f"live heap growth per client: {sum(r[0] for r in rows) / n:.0f} B (clients {n})")
for size, count, name in rows[:60]:
    print(f"{size / n:8.1f} B {count / n:6.2f} objects  {name}")
PY
