#!/usr/bin/env bash
# bench/memory.sh — resident memory of pgferry and of PgBouncer holding N idle client connections:
#
#     bench/memory.sh                   # N=10000 (BENCH_IDLE_CLIENTS), both poolers
#     BENCH_IDLE_CLIENTS=2000 BENCH_TARGETS=pgbouncer bench/memory.sh
#
# For each pooler: start it fresh (PgBouncer via pgbouncer.sh, pgferry from its packaged jar, production
# profile, the same options as bench/run.sh), run one 'select 1' through it (so the pool for bench/postgres
# exists), read VmRSS from /proc, then open N client connections with bench/idle_clients.py — each
# authenticated with SCRAM-SHA-256 as user postgres (the same path real clients take, no trust shortcut)
# and held idle after ReadyForQuery — wait BENCH_SETTLE seconds, read VmRSS again, and report
# before / after / (after - before) / N bytes per client. The poolers are stopped afterwards.
# Output: a table on stdout and docs/bench/memory.md + memory.csv (BENCH_OUT); memory-warm.* with
# BENCH_MEMORY_WARMUP=1, memory-churn.* with BENCH_MEMORY_WARMUP=churn.
#
# Knobs: BENCH_IDLE_CLIENTS=10000 BENCH_TARGETS="pgferry pgbouncer" BENCH_SETTLE=5 BENCH_MEMORY_WARMUP=0 BENCH_JAR BENCH_BUILD BENCH_NOTE
#        BENCH_MEMORY_WARMUP=1: first the same N clients log in and leave (memory kept from them is not charged again);
#        BENCH_MEMORY_WARMUP=churn: first N logins in rounds of BENCH_MEMORY_CHURN=200 clients that log in and leave
#        (a pooler that has served short connections: warm, but never held N clients)
#        BENCH_IDLE_QUERY='select 1': each client runs this query once after its login, then idles (a client that worked)
#        BENCH_MEMORY_HISTOGRAM=1: keep jcmd GC.class_histogram (top 60) taken with the N clients held
#        BENCH_FERRY_JVM="-XX:NativeMemoryTracking=summary ...": keep the NMT diff the clients caused
#        BENCH_POOL=20 BENCH_FERRY_PORT=6543 BENCH_FERRY_HTTP_PORT=18090 PGE_PORT PGB_PORT BENCH_OUT
# pgferry's RSS includes the JVM (FERRY_JVM in lib.sh): heap that was touched stays resident
# after garbage collection, so "after - before" is the growth the connections caused, not their live size.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
. "$BENCH_DIR/lib.sh"
N=${BENCH_IDLE_CLIENTS:-10000}
TARGETS=${BENCH_TARGETS:-pgferry pgbouncer}
SETTLE=${BENCH_SETTLE:-5}
WARMUP=${BENCH_MEMORY_WARMUP:-0}
CHURN=${BENCH_MEMORY_CHURN:-200}
case $WARMUP in 0) NAME=memory ;; 1) NAME=memory-warm ;; churn) NAME=memory-churn ;; *) echo "BENCH_MEMORY_WARMUP: 0, 1 or churn" >&2; exit 2 ;; esac
POOL=${BENCH_POOL:-20}
JAR=${BENCH_JAR:-target/quarkus-app/quarkus-run.jar}; [[ $JAR = /* ]] || JAR=$REPO/$JAR
OUT=${BENCH_OUT:-docs/bench}; [[ $OUT = /* ]] || OUT=$REPO/$OUT
export PGE_PORT=${PGE_PORT:-55432} PGB_PORT=${PGB_PORT:-56432} PGB_POOL=$POOL PGB_MODE=transaction
FERRY_PORT=${BENCH_FERRY_PORT:-6543}
FERRY_HTTP=${BENCH_FERRY_HTTP_PORT:-18090}
export PGPASSWORD=secret
WORK=$(mktemp -d /tmp/pgferry-memory.XXXXXX)
FERRY_PID="" HOLDER_PID="" PGB_STARTED=""

command -v python3 >/dev/null || die "python3 missing"
raise_fd_limit
[ "$(ulimit -n)" -gt $((N + 100)) ] || die "open-file limit $(ulimit -n) is below $N clients (run as root)"
pick_pgdir
cleanup() {
  [ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null
  stop_pgferry
  [ -n "$PGB_STARTED" ] && "$PGDIR/pgbouncer.sh" stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$PGDIR/pgenv.sh" start || die "pgenv.sh start failed"
mkdir -p "$OUT"

# open_clients PORT NAME: starts the holder with N clients and waits for its READY line (in HOLD_LINE)
open_clients() {
  local port=$1 name=$2
  # the holder reads stdin: keep it open with a sleeping writer, close it to release the connections
  mkfifo "$WORK/hold.fifo"
  "$PYTHON" "$BENCH_DIR/idle_clients.py" --port "$port" --clients "$N" ${BENCH_IDLE_QUERY:+--query "$BENCH_IDLE_QUERY"} <"$WORK/hold.fifo" >"$WORK/holder.out" 2>&1 &
  HOLDER_PID=$!
  exec 9>"$WORK/hold.fifo"
  for _ in $(seq 1200); do
    grep -q '^READY' "$WORK/holder.out" && break
    kill -0 "$HOLDER_PID" 2>/dev/null || break
    sleep 0.5
  done
  HOLD_LINE=$(grep -m1 '^READY' "$WORK/holder.out")
  if [ -z "$HOLD_LINE" ]; then
    say "$name: holder did not finish: $(tail -3 "$WORK/holder.out")"
    HOLD_LINE="READY connected=0 failed=$N (holder died or timed out)"
  fi
}

close_clients() {
  exec 9>&-
  wait "$HOLDER_PID" 2>/dev/null; HOLDER_PID=""
  rm -f "$WORK/hold.fifo"
}

# live_heap PID: bytes of Java heap in use right after a full collection (pgferry only; "" without jcmd)
live_heap() {
  command -v jcmd >/dev/null || return 0
  jcmd "$1" GC.run >/dev/null 2>&1 || return 0
  sleep 1
  jcmd "$1" GC.heap_info 2>/dev/null | grep -oP 'used \K[0-9]+(?=K)' | awk '{s += $1} END {if (NR) print s * 1024}'
}

# nmt PID baseline|summary.diff: Native Memory Tracking (prints nothing unless the JVM runs with it)
nmt() {
  command -v jcmd >/dev/null || return 0
  jcmd "$1" VM.native_memory "$2" 2>/dev/null | grep -q 'not enabled' && return 0
  jcmd "$1" VM.native_memory "$2" 2>/dev/null
}

# hold PID PORT NAME: warm-up round, RSS before, N idle clients, RSS after; appends to $WORK/rows
hold() {
  local pid=$1 port=$2 name=$3 before after heap_before="" heap_after="" line
  sleep 1
  if [ "$WARMUP" = 1 ]; then
    # a pooler that has served logins before: the memory its login path touched once (for the JVM, the young
    # generation that login garbage ran through) is resident already and is not charged to the idle clients
    say "$name (pid $pid): warm-up, $N clients log in and leave"
    open_clients "$port" "$name"; close_clients; sleep "$SETTLE"
  elif [ "$WARMUP" = churn ]; then
    # a pooler that has been serving short-lived connections, never many at once: its login path is compiled
    # and the memory login garbage runs through is in use, but nothing is sized for N clients yet
    say "$name (pid $pid): warm-up, $N logins in rounds of $CHURN clients that log in and leave"
    local done_logins=0
    while [ "$done_logins" -lt "$N" ]; do
      "$PYTHON" "$BENCH_DIR/idle_clients.py" --port "$port" --clients "$CHURN" --hold 0.01 </dev/null >/dev/null 2>&1
      done_logins=$((done_logins + CHURN))
    done
    sleep "$SETTLE"
  fi
  [ "$name" = pgferry ] && heap_before=$(live_heap "$pid")
  # with -XX:NativeMemoryTracking=summary in BENCH_FERRY_JVM: which JVM area the clients grow (heap, "Other" =
  # Netty's direct buffers, threads, metaspace, ...), as a diff against this baseline
  [ "$name" = pgferry ] && nmt "$pid" baseline >/dev/null
  before=$(rss_bytes "$pid")
  say "$name (pid $pid): RSS before $before bytes; opening $N idle clients"
  open_clients "$port" "$name"; line=$HOLD_LINE
  say "$name: $line; settling ${SETTLE}s"
  sleep "$SETTLE"
  after=$(rss_bytes "$pid")
  if [ "$name" = pgferry ]; then
    nmt "$pid" summary.diff >"$WORK/nmt-diff.txt" && [ -s "$WORK/nmt-diff.txt" ] && say "NMT diff: $WORK/nmt-diff.txt"
    heap_after=$(live_heap "$pid")
    if [ "${BENCH_MEMORY_HISTOGRAM:-0}" = 1 ] && command -v jcmd >/dev/null; then
      # what the held clients are, by class (after the full GC of live_heap: live objects only)
      jcmd "$pid" GC.class_histogram 2>/dev/null | head -60 >"$WORK/histogram.txt"
      say "class histogram with $N clients: $WORK/histogram.txt"
    fi
  fi
  local connected; connected=$(grep -oP 'connected=\K[0-9]+' <<<"$line")
  close_clients
  local per="n/a" heap_per="n/a"
  [ "${connected:-0}" -gt 0 ] && per=$(( (after - before) / connected ))
  [ "${connected:-0}" -gt 0 ] && [ -n "$heap_before" ] && [ -n "$heap_after" ] && heap_per=$(( (heap_after - heap_before) / connected ))
  echo "$name,$N,${connected:-0},$before,$after,$((after - before)),$per,$heap_per,\"${line#READY }\"" >>"$WORK/rows"
}

: >"$WORK/rows"
declare -A VERSION=()
for t in $TARGETS; do
  case $t in
    pgbouncer)
      "$PGDIR/pgbouncer.sh" start || { say "pgbouncer.sh start failed"; continue; }
      PGB_STARTED=1
      VERSION[pgbouncer]=$(pgbouncer_version)
      hold "$(cat "/tmp/pgbouncer-$PGB_PORT/pid")" "$PGB_PORT" pgbouncer
      "$PGDIR/pgbouncer.sh" stop >/dev/null 2>&1; PGB_STARTED=""
      ;;
    pgferry)
      if start_pgferry "$JAR" "$FERRY_PORT" "$FERRY_HTTP" "$POOL" "$PGE_PORT"; then
        VERSION[pgferry]="pgferry $FERRY_COMMIT"
        hold "$FERRY_PID" "$FERRY_PORT" pgferry
        stop_pgferry
      else
        say "SKIPPING pgferry: $FERRY_SKIP"
        echo "pgferry,$N,0,,,,n/a,n/a,\"skipped: $FERRY_SKIP\"" >>"$WORK/rows"
      fi
      ;;
    *) say "unknown target $t" ;;
  esac
done

{ echo "target,clients_requested,clients_connected,rss_before_bytes,rss_after_bytes,rss_delta_bytes,bytes_per_client,live_heap_bytes_per_client,holder"
  cat "$WORK/rows"; } >"$OUT/$NAME.csv"
{
  echo "# Memory per idle client"
  echo
  [ -n "${BENCH_NOTE:-}" ] && { echo "> **$BENCH_NOTE**"; echo; }
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
       "${VERSION[pgbouncer]:-PgBouncer not measured}; ${VERSION[pgferry]:-pgferry not measured}" \
       "(JVM $FERRY_JVM). Clients: bench/idle_clients.py, SCRAM-SHA-256 as postgres," \
       "held idle after ReadyForQuery; RSS = VmRSS of the pooler process, read ${SETTLE} s after the last client connected." \
       "$([ "$WARMUP" = 1 ] && echo "RSS before is read after a warm-up round in which the same $N clients logged in and left (BENCH_MEMORY_WARMUP=1): memory a pooler keeps after its clients left is not charged again.")" \
       "$([ "$WARMUP" = churn ] && echo "RSS before is read after a warm-up of $N logins in rounds of $CHURN clients that logged in and left (BENCH_MEMORY_WARMUP=churn): the login path is compiled and its garbage has run through the young generation, but the pooler never held more than $CHURN clients.")" \
       "Live heap (pgferry): Java heap in use after a full GC (jcmd GC.run, GC.heap_info), before and with the clients."
  echo
  echo "How to read the figures for a JVM (one-time costs of a fresh one, the churn warm-up): docs/bench/performance.md, section \"memory per idle client\"."
  echo
  echo "| target | clients connected / requested | RSS before | RSS after | delta | RSS bytes per client | live heap bytes per client |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  awk -F, '{ printf "| %s | %s / %s | %s | %s | %s | %s | %s |\n", $1, $3, $2, ($4==""?"n/a":sprintf("%.1f MiB", $4/1048576)),
             ($5==""?"n/a":sprintf("%.1f MiB", $5/1048576)), ($6==""?"n/a":sprintf("%.1f MiB", $6/1048576)), $7, $8 }' "$WORK/rows"
  echo
  echo "Holder output per target: $(awk -F, '{ printf "%s: %s; ", $1, substr($0, index($0,"\"")) }' "$WORK/rows")"
} >"$OUT/$NAME.md"
cat "$OUT/$NAME.md"
