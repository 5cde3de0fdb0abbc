#!/usr/bin/env bash
# bench/listen-fanout.sh — LISTEN/NOTIFY fan-out (issue 22): 200 idle listening clients on 10 channels, through
#
#   direct                 PostgreSQL itself, one backend per client (the reference)
#   pgferry                transaction mode, pgferry.pool.listen=fanout (the default): one listener backend per database
#   pgbouncer-transaction  PgBouncer in transaction mode: LISTEN runs on whichever backend the client got
#   pgbouncer-session      PgBouncer in session mode, what LISTEN needs there: one backend per client
#
#     ./mvnw -B -q -DskipTests package && bench/listen-fanout.sh
#     CLIENTS=200 CHANNELS=10 RATE=100 PACED_SECS=10 BLAST_SECS=10 POOL=20 TARGETS="pgferry pgbouncer-transaction" \
#         PGB_BIN=/opt/pgbouncer-1.25.2/bin/pgbouncer bench/listen-fanout.sh
#
# Reports per target (bench/listen_fanout.py, psycopg 3): the most backends database notifybench had while it ran,
# how many clients got every notification of their channel, latency send -> received (p50/p99) at RATE notifications
# a second sent from a direct connection (after WARMUP_SECS (3) at that rate, not timed), and deliveries a second (summed over clients) while the sender blasts
# transactions of one NOTIFY per channel. The private PostgreSQL of pgenv.sh (127.0.0.1:55432) gets a database
# notifybench of its own, so that other users of that cluster do not count. pgferry runs from BENCH_JAR (default
# target/quarkus-app/quarkus-run.jar) on port FERRY_PORT (6611); PgBouncer on PGB_PORT (56611), pool POOL (20), and
# in session mode pool CLIENTS + 10. Run as root (pgbouncer.sh runs PgBouncer as user postgres).
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
WORK=$(mktemp -d)
[ -z "${PGB_BIN:-}" ] && [ -x /opt/pgbouncer-1.25.2/bin/pgbouncer ] && PGB_BIN=/opt/pgbouncer-1.25.2/bin/pgbouncer
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
raise_fd_limit
PY=${BENCH_PYTHON:-/usr/bin/python3}
"$PY" -c 'import psycopg' 2>/dev/null || die "$PY has no psycopg 3 (Debian: apt-get install python3-psycopg; or set BENCH_PYTHON)"
JAR=${BENCH_JAR:-$REPO/target/quarkus-app/quarkus-run.jar}
CLIENTS=${CLIENTS:-200} CHANNELS=${CHANNELS:-10} RATE=${RATE:-100} WARMUP_SECS=${WARMUP_SECS:-3} PACED_SECS=${PACED_SECS:-10} BLAST_SECS=${BLAST_SECS:-10}
POOL=${POOL:-20} FERRY_PORT=${FERRY_PORT:-6611} PGB_PORT=${PGB_PORT:-56611} PG_PORT=${PGE_PORT:-55432}
TARGETS=${TARGETS:-"direct pgferry pgbouncer-transaction pgbouncer-session"}
export PGB_PORT PGE_PORT=$PG_PORT
pick_pgdir
"$PGDIR/pgenv.sh" start || die "pgenv.sh start failed"
PGPASSWORD=secret psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname = 'notifybench'" postgres | grep -q 1 \
  || PGPASSWORD=secret psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "create database notifybench" postgres || die "cannot create notifybench"
say "PgBouncer: $(pgbouncer_version); work dir $WORK"
measure() { # LABEL PORT
  "$PY" "$BENCH_DIR/listen_fanout.py" --label "$1" --port "$2" --direct-port "$PG_PORT" --clients "$CLIENTS" \
    --channels "$CHANNELS" --rate "$RATE" --warmup-secs "$WARMUP_SECS" --paced-secs "$PACED_SECS" --blast-secs "$BLAST_SECS" | tee -a "$WORK/results"
}
for t in $TARGETS; do
  say "measuring $t"
  case $t in
  direct) measure direct "$PG_PORT" ;;
  pgferry)
    if start_pgferry "$JAR" "$FERRY_PORT" $((FERRY_PORT + 12000)) "$POOL" "$PG_PORT"; then
      measure "pgferry($FERRY_COMMIT)" "$FERRY_PORT"; stop_pgferry
    else say "pgferry skipped: $FERRY_SKIP"; fi ;;
  pgbouncer-transaction|pgbouncer-session)
    mode=${t#pgbouncer-}; pool=$POOL; [ "$mode" = session ] && pool=$((CLIENTS + 10))
    rm -f "/tmp/pgbouncer-$PGB_PORT/log"
    if PGB_MODE=$mode PGB_POOL=$pool "$PGDIR/pgbouncer.sh" start; then
      measure "$t(pool=$pool)" "$PGB_PORT"
      # a NotificationResponse on a backend no client is linked to: PgBouncer logs it and drops it
      say "PgBouncer log: $(grep -c "got packet 'A' from server when not linked" "/tmp/pgbouncer-$PGB_PORT/log")" \
        "notifications dropped ('got packet 'A' from server when not linked'), log /tmp/pgbouncer-$PGB_PORT/log"
      cp "/tmp/pgbouncer-$PGB_PORT/log" "$WORK/pgbouncer-$mode.log"
      "$PGDIR/pgbouncer.sh" stop; sleep 1
    else say "PgBouncer ($mode) did not start"; fi ;;
  *) say "unknown target $t" ;;
  esac
done
say "results: $WORK/results"
