#!/usr/bin/env bash
# bench/before-after.sh — two pgferry jars side by side, interleaved, to show what a change does to throughput and to
# the pooler's CPU per transaction (the "same speed" check of a refactoring):
#
#     BEFORE_JAR=/tmp/old/target/quarkus-app/quarkus-run.jar AFTER_JAR=target/quarkus-app/quarkus-run.jar \
#         ROUNDS=5 SECS=6 MODES="simple extended prepared connect" bench/before-after.sh
#
# Both jars run at once (ports 6601/6602, pool 20, transaction mode, bench/lib.sh's JVM options) against the private
# PostgreSQL of pgenv.sh (port 55432, database bench). Each round runs pgbench -S -c CLIENTS -j 2 -T SECS per mode on
# "before" then "after"; mode connect is pgbench -C -S (a SCRAM login per transaction). CPU per transaction is the
# JVM's utime+stime (/proc/PID/stat) over the pgbench run divided by the transactions processed. Prints every cell,
# then medians over the rounds. On a shared machine expect ±15 % between rounds: read signs that hold across runs.
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
WORK=$(mktemp -d)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
raise_fd_limit
: "${BEFORE_JAR:?set BEFORE_JAR to the jar before the change}" "${AFTER_JAR:?set AFTER_JAR to the jar after it}"
ROUNDS=${ROUNDS:-3} SECS=${SECS:-8} CLIENTS=${CLIENTS:-50} MODES=${MODES:-"simple extended prepared"}
PG_PORT=${PGE_PORT:-55432}
start_pgferry "$BEFORE_JAR" 6601 18601 20 "$PG_PORT" 127.0.0.1 before || die "$FERRY_SKIP"
PB=$FERRY_PID
start_pgferry "$AFTER_JAR" 6602 18602 20 "$PG_PORT" 127.0.0.1 after || { kill "$PB"; die "$FERRY_SKIP"; }
PA=$FERRY_PID
trap 'kill $PB $PA 2>/dev/null; wait 2>/dev/null' EXIT
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
echo "round mode side tps cpu_us_per_tx"
for r in $(seq "$ROUNDS"); do
  for m in $MODES; do
    for side in before after; do
      if [ "$side" = before ]; then port=6601 pid=$PB; else port=6602 pid=$PA; fi
      if [ "$m" = connect ]; then flags="-C -M simple"; else flags="-M $m"; fi
      t0=$(ticks "$pid")
      # shellcheck disable=SC2086
      out=$(PGPASSWORD=secret pgbench -n -S $flags -c "$CLIENTS" -j 2 -T "$SECS" -h 127.0.0.1 -p "$port" -U postgres bench 2>&1)
      t1=$(ticks "$pid")
      tps=$(echo "$out" | awk '/^tps/ {print $3; exit}')
      n=$(echo "$out" | awk '/processed:/ {print $NF}' | cut -d/ -f1)
      cpu=$(awk -v a="$t0" -v b="$t1" -v n="${n:-0}" -v hz="$HZ" 'BEGIN {if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print "-"}')
      echo "$r $m $side ${tps:--} $cpu" | tee -a "$WORK/rows"
    done
  done
done
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "medians: tps before -> after (ratio), cpu us/tx before -> after"
for m in $MODES; do
  tb=$(awk -v m="$m" '$2 == m && $3 == "before" {print $4}' "$WORK/rows" | median)
  ta=$(awk -v m="$m" '$2 == m && $3 == "after" {print $4}' "$WORK/rows" | median)
  cb=$(awk -v m="$m" '$2 == m && $3 == "before" {print $5}' "$WORK/rows" | median)
  ca=$(awk -v m="$m" '$2 == m && $3 == "after" {print $5}' "$WORK/rows" | median)
  echo "$m: tps $tb -> $ta ($(awk -v a="$ta" -v b="$tb" 'BEGIN {printf "%.2f", a / b}')x), cpu us/tx $cb -> $ca"
done
