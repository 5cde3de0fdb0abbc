#!/usr/bin/env bash
# Soak: mixed load against a running pgferry for SOAK_MINUTES, with resource figures at start and end.
#
#   PGFERRY_PID=<pid of the pgferry JVM> PGFERRY_PORT=6432 PG_PORT=5432 PGPASSWORD=secret bench/soak.sh
#
# Load (three pgbench runs at once, through pgferry):
#   simple   : tpcb-like, simple protocol, SOAK_CLIENTS clients (default 4)
#   prepared : select-only, -M prepared (named statements through transaction pooling), SOAK_CLIENTS clients
#   churn    : select-only, -C (a new connection per transaction: login/logout churn), 2 clients
# Figures, every SOAK_SAMPLE_SECONDS (default 30) and at start/end: RSS and open file descriptors of the pgferry
# process (/proc/PID), server backends of the database (pg_stat_activity, asked directly on PG_HOST:PG_PORT), and
# heap used after a full GC (jcmd PID GC.run + GC.heap_info) when jcmd exists.
#
# Environment: SOAK_MINUTES (10), PGFERRY_PID (required), PGFERRY_HOST (127.0.0.1), PGFERRY_PORT (6432),
# PG_HOST (127.0.0.1), PG_PORT (5432), SOAK_DB (bench, must hold pgbench tables: pgbench -i), PGUSER (postgres),
# PGPASSWORD (for both pgferry and the server).
set -euo pipefail

SOAK_MINUTES=${SOAK_MINUTES:-10}
PGFERRY_HOST=${PGFERRY_HOST:-127.0.0.1}
PGFERRY_PORT=${PGFERRY_PORT:-6432}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
SOAK_DB=${SOAK_DB:-bench}
SOAK_CLIENTS=${SOAK_CLIENTS:-4}
SOAK_SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-30}
export PGUSER=${PGUSER:-postgres}
: "${PGFERRY_PID:?set PGFERRY_PID to the pid of the pgferry JVM}"
: "${PGPASSWORD:?set PGPASSWORD}"
export PGPASSWORD

[ -d "/proc/$PGFERRY_PID" ] || { echo "no process $PGFERRY_PID" >&2; exit 1; }
secs=$((SOAK_MINUTES * 60))
out=$(mktemp -d /tmp/pgferry-soak.XXXXXX)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$PGFERRY_PID/status"; }
fds() { ls "/proc/$PGFERRY_PID/fd" | wc -l; }
backends() {
    psql -h "$PG_HOST" -p "$PG_PORT" -d "$SOAK_DB" -Atc "select count(*) from pg_stat_activity
        where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()"
}
heap_kb() {
    if command -v jcmd >/dev/null; then
        jcmd "$PGFERRY_PID" GC.run >/dev/null 2>&1 || true
        jcmd "$PGFERRY_PID" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | head -1 | tr -dc 0-9
    else
        echo "n/a"
    fi
}
sample() { # label
    printf '%-10s %8s %10s %6s %9s %12s\n' "$1" "$(( $(date +%s) - t0 ))" "$(rss_kb)" "$(fds)" "$(backends)" "$(heap_kb)"
}

t0=$(date +%s)
echo "pgferry pid $PGFERRY_PID on $PGFERRY_HOST:$PGFERRY_PORT, server $PG_HOST:$PG_PORT/$SOAK_DB, $SOAK_MINUTES min; logs in $out"
printf '%-10s %8s %10s %6s %9s %12s\n' when t_s rss_kb fds backends heap_gc_kb
sample start | tee "$out/samples"

pgb() { pgbench -n -h "$PGFERRY_HOST" -p "$PGFERRY_PORT" -T "$secs" -j 1 -P 60 "$@" "$SOAK_DB"; }
pgb -c "$SOAK_CLIENTS" -M simple >"$out/simple.log" 2>&1 &
p1=$!
pgb -c "$SOAK_CLIENTS" -M prepared -b select-only >"$out/prepared.log" 2>&1 &
p2=$!
pgb -c 2 -C -M simple -b select-only >"$out/churn.log" 2>&1 &
p3=$!

while kill -0 "$p1" 2>/dev/null || kill -0 "$p2" 2>/dev/null || kill -0 "$p3" 2>/dev/null; do
    sleep "$SOAK_SAMPLE_SECONDS"
    if kill -0 "$p1" 2>/dev/null; then sample load | tee -a "$out/samples"; fi
done
rc=0
wait "$p1" || rc=1
wait "$p2" || rc=1
wait "$p3" || rc=1
sleep 2
sample end | tee -a "$out/samples"

echo
for run in simple prepared churn; do
    printf '%-9s %s | %s | %s\n' "$run" \
        "$(grep -m1 'number of transactions actually processed' "$out/$run.log" || echo 'no summary')" \
        "$(grep -m1 '^number of failed transactions' "$out/$run.log" || echo 'failed: n/a')" \
        "$(grep -m1 '^tps' "$out/$run.log" || echo 'tps: n/a')"
done
grep -h -i -E 'error|abort' "$out"/*.log | sort | uniq -c | head -20 || true
exit $rc
