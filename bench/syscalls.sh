#!/usr/bin/env bash
# bench/syscalls.sh — system calls per transaction of pgferry and PgBouncer: a deterministic cost count where
# throughput on a shared machine is too noisy to show a small change.
#
#     FERRY_JAR=target/quarkus-app/quarkus-run.jar PGB_BIN=<prefix>/bin/pgbouncer bench/syscalls.sh
#     TARGETS="pgferry" CLIENTS=10 TX=2000 MODES="simple extended prepared" bench/syscalls.sh
#
# Starts pgferry (bench/lib.sh, pool 20, transaction mode, port FERRY_PORT) and PgBouncer (pgbouncer.sh,
# transaction mode, pool 20, port PGB_PORT) in front of the private PostgreSQL (pgenv.sh, port 55432), warms each
# up with pgbench -S -T WARMUP, then per mode runs pgbench -S -M MODE -c CLIENTS -j 2 -t TX while
# `perf stat -e syscalls:sys_enter_*` counts the pooler process's system calls (all its threads), and prints
# each count divided by the transactions run: per system call, all of them (all), and those of the threads that
# serve clients (io: without the JVM's JIT and timer threads). WINDOW=<s> (for many clients, e.g. CLIENTS=500
# WINDOW=10): pgbench -T instead, counted over WINDOW seconds once the clients are logged in, transactions taken from
# the pooler's SHOW STATS (total_xact_count of database bench) through an admin session opened before the window. Needs root (or perf_event_paranoid <= 1) and perf with the
# syscalls tracepoints. Counts of epoll_wait and futex depend on timing (how much arrives per wake-up), so
# they move a little between runs; writes and reads per transaction do not, beyond the odd batching.
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
WORK=$(mktemp -d)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
pick_pgdir
raise_fd_limit
FERRY_JAR=${FERRY_JAR:-$REPO/target/quarkus-app/quarkus-run.jar}
FERRY_PORT=${FERRY_PORT:-6603} FERRY_HTTP=${FERRY_HTTP:-18603}
PGB_PORT=${PGB_PORT:-56432}
export PGB_PORT
TARGETS=${TARGETS:-"pgferry pgbouncer"} MODES=${MODES:-"simple extended prepared"}
CLIENTS=${CLIENTS:-10} TX=${TX:-2000} WARMUP=${WARMUP:-10} WINDOW=${WINDOW:-0}
PG_PORT=${PGE_PORT:-55432}
EVENTS="read recvfrom write writev sendto sendmsg epoll_wait epoll_pwait epoll_pwait2 epoll_ctl futex gettid"
PERF_EVENTS=$(for e in $EVENTS; do printf 'syscalls:sys_enter_%s,' "$e"; done)raw_syscalls:sys_enter
command -v perf >/dev/null || die "perf not found (apt-get install -y linux-perf)"

cleanup() {
  stop_pgferry
  [[ " $TARGETS " == *" pgbouncer "* ]] && "$PGDIR/pgbouncer.sh" stop 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

pooler_pid() { # TARGET: the pid whose system calls are counted
  if [ "$1" = pgferry ]; then echo "$FERRY_PID"; else cat "/tmp/pgbouncer-$PGB_PORT/pid"; fi
}
pooler_port() { if [ "$1" = pgferry ]; then echo "$FERRY_PORT"; else echo "$PGB_PORT"; fi; }

printf '\\set aid random(1, 100000)\n\\startpipeline\n' >"$WORK/pipeline.sql"
for _ in 1 2 3 4 5; do echo 'SELECT abalance FROM pgbench_accounts WHERE aid = :aid;' >>"$WORK/pipeline.sql"; done
printf '\\endpipeline\n' >>"$WORK/pipeline.sql"

"$PGDIR/pgenv.sh" start || die "PostgreSQL did not start"
for t in $TARGETS; do
  case $t in
    pgferry) start_pgferry "$FERRY_JAR" "$FERRY_PORT" "$FERRY_HTTP" 20 "$PG_PORT" 127.0.0.1 || die "$FERRY_SKIP" ;;
    pgbouncer) "$PGDIR/pgbouncer.sh" start || die "PgBouncer did not start"; say "$(pgbouncer_version)" ;;
  esac
  PGPASSWORD=secret pgbench -n -S -M simple -c "$CLIENTS" -j 2 -T "$WARMUP" -h 127.0.0.1 -p "$(pooler_port "$t")" \
    -U postgres bench >/dev/null 2>&1
done

printf '%-10s %-9s %6s' target mode tps
for e in $EVENTS all io; do printf ' %9s' "$e"; done
echo
for m in $MODES; do
  for t in $TARGETS; do
    pid=$(pooler_pid "$t")
    case $m in
      connect) flags="-S -C -M simple" tx=$((TX / 10)) ;;  # a SCRAM login per transaction
      tpcb) flags="-M simple" tx=$((TX / 4)) ;;            # tpcb-like: BEGIN, 3 UPDATEs, SELECT, INSERT, END
      pipeline) flags="-M extended -f $WORK/pipeline.sql" tx=$TX ;;  # 5 SELECTs in one pipeline, one Sync
      *) flags="-S -M $m" tx=$TX ;;
    esac
    if [ "$WINDOW" -gt 0 ]; then
      # many clients: count over a window after the logins, transactions from the pooler's SHOW STATS
      connect=$((CLIENTS / 50 + 3))
      # shellcheck disable=SC2086
      PGPASSWORD=secret pgbench -n $flags -c "$CLIENTS" -j 2 -T $((connect + WINDOW + 4)) -h 127.0.0.1 \
        -p "$(pooler_port "$t")" -U postgres bench >"$WORK/out" 2>&1 &
      bp=$!
      sleep "$connect"
      # one admin session, logged in before the window, so that reading the counts costs milliseconds
      admin=pgbouncer
      [ "$t" = pgferry ] && admin=pgferry
      coproc ADMIN { PGPASSWORD=secret psql -h 127.0.0.1 -p "$(pooler_port "$t")" -U postgres -tA -F, -q "$admin"; }
      xacts() { echo 'SHOW STATS;' >&"${ADMIN[1]}"; echo '\echo END' >&"${ADMIN[1]}"; local l x=""
        while read -r l <&"${ADMIN[0]}" && [ "$l" != END ]; do [[ $l == bench,* ]] && x=$(echo "$l" | cut -d, -f3); done
        echo "$x"; }
      xacts >/dev/null
      perf stat --per-thread -x, -o "$WORK/perf" -e "$PERF_EVENTS" -p "$pid" &
      ps=$!
      sleep 0.1
      x0=$(xacts)
      sleep "$WINDOW"
      x1=$(xacts)
      kill -INT "$ps"
      wait "$ps"
      echo '\q' >&"${ADMIN[1]}"
      wait "$bp"
      n=$((x1 - x0))
      tps=$((n / WINDOW))
    else
      # shellcheck disable=SC2086
      perf stat --per-thread -x, -o "$WORK/perf" -e "$PERF_EVENTS" -p "$pid" -- \
        env PGPASSWORD=secret pgbench -n $flags -c "$CLIENTS" -j 2 -t "$tx" -h 127.0.0.1 \
        -p "$(pooler_port "$t")" -U postgres bench >"$WORK/out" 2>&1
      n=$(awk '/processed:/ {print $NF}' "$WORK/out" | cut -d/ -f1)
      tps=$(awk '/^tps/ {printf "%d", $3; exit}' "$WORK/out")
    fi
    [ -n "$n" ] && [ "$n" -gt 0 ] || { say "pgbench failed on $t/$m:"; cat "$WORK/out" >&2; continue; }
    printf '%-10s %-9s %6s' "$t" "$m" "$tps"
    # --per-thread lines: "comm-tid,count,,event,..."; summed over the threads
    for e in $EVENTS; do
      awk -F, -v ev="syscalls:sys_enter_$e" -v n="$n" '$4 == ev {c += $2; f = 1}
        END {if (f) printf " %9.2f", c / n; else printf " %9s", "-"}' "$WORK/perf"
    done
    # all: every thread; io: the threads that serve clients (pgferry's Vert.x loops and its backend loop; all of
    # PgBouncer's), without the JVM's own (JIT compiler threads' gettid, timers), which do not scale with load
    awk -F, -v n="$n" -v t="$t" '$4 == "raw_syscalls:sys_enter" {a += $2; if (t != "pgferry" || $1 ~ /^(vert\.x-|pgferry-)/) io += $2}
      END {printf " %9.2f %9.2f", a / n, io / n}' "$WORK/perf"
    echo
  done
done
