#!/usr/bin/env bash
# bench/run.sh — pgferry vs PgBouncer vs direct PostgreSQL, interleaved rounds, one command:
#
#     bench/run.sh                      # full run: 3 rounds x 10 s per cell, ~60 min on 2 cores (5 targets)
#     BENCH_ROUNDS=1 BENCH_SECONDS=3 BENCH_SCENARIOS="S-simple-10 B-simple-50" bench/run.sh   # smoke
#
# Starts (or reuses) the private PostgreSQL (pgenv.sh, port 55432), PgBouncer 1.x in transaction mode
# (pgbouncer.sh, port 56432, pool 20) and pgferry from its packaged jar (production profile, port 6543,
# pool 20, transaction mode), then runs pgbench against each target in turn, round by round
# (round 1: scenario 1 on A B C, scenario 2 on A B C, ...; round 2: ...), so drift hits all alike.
# Each cell also records the pooler's CPU µs and context switches per transaction (bench/proccost.py, /proc).
# Writes docs/bench/results.csv (raw, one row per round x target x scenario), results.md (medians,
# percentiles, ratios), tps_vs_clients.png and meta.txt. See bench/README.md for how to read them.
#
# Knobs (environment):
#   BENCH_ROUNDS=3            rounds (medians are over rounds)
#   BENCH_SECONDS=10          pgbench -T per cell
#   BENCH_SCENARIOS="..."     scenario ids to run on every target (default: all, see below)
#   BENCH_LIMITS="..."        scenario ids run on direct PostgreSQL only as the "limit" reference
#                             (default S-simple-20 S-extended-20 S-prepared-20 B-simple-20 C-simple-20;
#                             set to "" to skip; only those matching a run scenario's script+mode are used)
#   BENCH_TARGETS="pgferry pgbouncer pgferry-unix pgbouncer-unix direct"
#                             pgferry / pgbouncer reach PostgreSQL over loopback TCP (pgbouncer = pgbouncer.sh, the
#                             reference); the -unix pair over its Unix socket (pgferry.backend.host = the socket
#                             directory; PgBouncer host= the same, bench/pg/pgbouncer.sh with PGB_HOST), on
#                             ports BENCH_FERRY_PORT+1 and PGB_PORT+1. Clients use TCP to every target.
#   BENCH_PG_SOCKET_DIR=/tmp/pgenv-$PGE_PORT   PostgreSQL's socket directory (pgenv.sh's -k)
#   BENCH_JAR=target/quarkus-app/quarkus-run.jar   (relative to the repo root, or absolute)
#   BENCH_BUILD=0             1: run ./mvnw -B -q package -DskipTests first
#   BENCH_POOL=20             pool size of PgBouncer and pgferry
#   BENCH_SAMPLING=0.05       pgbench --sampling-rate for the latency log (storm scenarios log all)
#   BENCH_CONNECT_RATE=60     cells above 50 clients first get ceil(clients/RATE) s added to -T for pgbench's
#                             initial connections (its -T clock includes them; tps and window_s exclude them),
#                             later 1.2 x the connection time measured for that target and client count + 1 s
#                             (when that time exceeds a tenth of BENCH_SECONDS)
#   BENCH_WARMUP=5            seconds of unrecorded S-simple-50 per pooler before round 1 (0: none)
#   BENCH_OUT=docs/bench      output directory (relative to the repo root, or absolute)
#   BENCH_FERRY_PORT=6543 BENCH_FERRY_HTTP_PORT=18090 BENCH_FERRY_OPTS="-D..."  (extra JVM/-D options)
#   PGE_PORT=55432 PGB_PORT=56432   PostgreSQL / PgBouncer ports (as in pgenv.sh / pgbouncer.sh)
#   PGB_BIN=<path>            the PgBouncer binary (default: pgbouncer on PATH, else Debian's); its version goes into meta.txt
#   BENCH_KEEP=0              1: leave PgBouncer and pgferry running afterwards (PostgreSQL is always left)
#
# Scenario ids: <script>-<mode>-<clients>
#   script S = pgbench -S (select only), B = tpcb-like, C = connection storm (pgbench -C -S:
#   a new connection per transaction, SCRAM user postgres, so tps = onboarding rate);
#   mode simple|extended|prepared (pgbench -M). All with -j 2.
# Direct PostgreSQL has max_connections=500: direct cells above 490 clients are skipped (n/a).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
ALL_SCENARIOS="S-simple-10 S-extended-10 S-prepared-10 S-simple-50 S-extended-50 S-prepared-50 \
S-simple-500 S-extended-500 S-prepared-500 S-simple-2000 S-extended-2000 S-prepared-2000 B-simple-50 C-simple-50"
SCENARIOS=${BENCH_SCENARIOS:-$ALL_SCENARIOS}
LIMITS=${BENCH_LIMITS-S-simple-20 S-extended-20 S-prepared-20 B-simple-20 C-simple-20}
TARGETS=${BENCH_TARGETS:-pgferry pgbouncer pgferry-unix pgbouncer-unix direct}
POOL=${BENCH_POOL:-20}
SAMPLING=${BENCH_SAMPLING:-0.05}
WARMUP=${BENCH_WARMUP:-5}
JAR=${BENCH_JAR:-target/quarkus-app/quarkus-run.jar}; [[ $JAR = /* ]] || JAR=$REPO/$JAR
OUT=${BENCH_OUT:-docs/bench}; [[ $OUT = /* ]] || OUT=$REPO/$OUT
export PGE_PORT=${PGE_PORT:-55432} PGB_PORT=${PGB_PORT:-56432} PGB_POOL=$POOL PGB_MODE=transaction
FERRY_PORT=${BENCH_FERRY_PORT:-6543}
FERRY_HTTP=${BENCH_FERRY_HTTP_PORT:-18090}
DIRECT_MAX=490
CONNECT_RATE=${BENCH_CONNECT_RATE:-60}
export PGPASSWORD=secret
WORK=$(mktemp -d /tmp/pgferry-bench.XXXXXX)
FERRY_PID="" FERRY_PIDS=()

. "$BENCH_DIR/lib.sh"

# --- prerequisites -----------------------------------------------------------------------------
missing=()
for c in pgbench psql python3; do command -v "$c" >/dev/null || missing+=("$c"); done
[[ " $TARGETS " != *" pgbouncer"* ]] || [ -x "$PGB_BIN" ] \
  || missing+=("pgbouncer (PGB_BIN=<path to the binary>, on PATH, or apt-get install -y pgbouncer)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
command -v gnuplot >/dev/null || python3 -c 'import matplotlib' 2>/dev/null \
  || say "WARNING: no chart tool: install gnuplot (apt-get install -y gnuplot-nox) or python3-matplotlib; tables are still written"
raise_fd_limit
[ "$(ulimit -n)" -ge 4200 ] || say "WARNING: open-file limit $(ulimit -n): 2000-client cells will fail (run as root or raise the hard limit)"
mkdir -p "$OUT" || die "cannot create $OUT"

pick_pgdir

cleanup() {
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    for FERRY_PID in "${FERRY_PIDS[@]}"; do stop_pgferry; done
    [ -n "${PGB_STARTED:-}" ] && "$PGDIR/pgbouncer.sh" stop >/dev/null 2>&1
    [ -n "${PGBU_STARTED:-}" ] && PGB_PORT=${PORT[pgbouncer-unix]} "$BENCH_DIR/pg/pgbouncer.sh" stop >/dev/null 2>&1
  fi
  rm -rf "$WORK/logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- start the targets ---------------------------------------------------------------------------
say "PostgreSQL on $PGE_PORT (pgenv.sh start)"
"$PGDIR/pgenv.sh" start || die "pgenv.sh start failed"
PG_VERSION=$(psql -h 127.0.0.1 -p "$PGE_PORT" -U postgres -qtAc 'show server_version' bench)

SOCK_DIR=${BENCH_PG_SOCKET_DIR:-/tmp/pgenv-$PGE_PORT}
declare -A PORT=([direct]=$PGE_PORT [pgbouncer]=$PGB_PORT [pgferry]=$FERRY_PORT
  [pgferry-unix]=$((FERRY_PORT + 1)) [pgbouncer-unix]=$((PGB_PORT + 1)))
declare -A SKIP=() POOLER_PID=()
PGB_VERSION="not run"
if [[ " $TARGETS " = *" pgbouncer "* ]]; then
  say "PgBouncer on $PGB_PORT, transaction mode, pool $POOL"
  if "$PGDIR/pgbouncer.sh" start; then
    PGB_STARTED=1
    PGB_VERSION=$(pgbouncer_version)
    POOLER_PID[pgbouncer]=$(cat "/tmp/pgbouncer-$PGB_PORT/pid" 2>/dev/null)
  else
    SKIP[pgbouncer]="pgbouncer.sh start failed"
  fi
fi

PGBU_STARTED=""
if [[ " $TARGETS " = *" pgbouncer-unix "* ]]; then
  say "PgBouncer on ${PORT[pgbouncer-unix]} to PostgreSQL's Unix socket in $SOCK_DIR, transaction mode, pool $POOL"
  if PGB_PORT=${PORT[pgbouncer-unix]} PGB_HOST=$SOCK_DIR "$BENCH_DIR/pg/pgbouncer.sh" start; then
    PGBU_STARTED=1
    POOLER_PID[pgbouncer-unix]=$(cat "/tmp/pgbouncer-${PORT[pgbouncer-unix]}/pid" 2>/dev/null)
    [ "$PGB_VERSION" = "not run" ] && PGB_VERSION=$(pgbouncer_version)
  else
    SKIP[pgbouncer-unix]="pgbouncer.sh start (PGB_HOST=$SOCK_DIR) failed"
  fi
fi

FERRY_COMMIT="n/a"
FERRY_PIDS=()
if [[ " $TARGETS " = *" pgferry "* ]]; then
  start_pgferry "$JAR" "$FERRY_PORT" "$FERRY_HTTP" "$POOL" "$PGE_PORT" \
    && { FERRY_PIDS+=("$FERRY_PID"); POOLER_PID[pgferry]=$FERRY_PID; } || SKIP[pgferry]=$FERRY_SKIP
  BENCH_BUILD=0 # built once
fi
if [[ " $TARGETS " = *" pgferry-unix "* ]]; then
  start_pgferry "$JAR" "${PORT[pgferry-unix]}" "$((FERRY_HTTP + 1))" "$POOL" "$PGE_PORT" "$SOCK_DIR" pgferry-unix \
    && { FERRY_PIDS+=("$FERRY_PID"); POOLER_PID[pgferry-unix]=$FERRY_PID; } || SKIP[pgferry-unix]=$FERRY_SKIP
fi
RUN_TARGETS=()
for t in $TARGETS; do
  if [ -n "${SKIP[$t]:-}" ]; then say "SKIPPING $t: ${SKIP[$t]}"; else RUN_TARGETS+=("$t"); fi
done
[ ${#RUN_TARGETS[@]} -gt 0 ] || die "no target to measure"

# --- one pgbench cell ------------------------------------------------------------------------------
CSV=$WORK/results.csv   # copied to $OUT at the end, so an interrupted run leaves the last results alone
echo "round,target,scenario,clients,tps,p50_ms,p99_ms,failed,aborted_clients,error_lines,status,exit_code,samples,conn_ms,window_s,attempts,error,cpu_us_per_tx,cs_per_tx,cost_window_s" >"$CSV"
declare -A CONN_EST=()

csvq() { local s=${1//\"/\"\"}; printf '"%s"' "$s"; }

# run_cell ROUND TARGET SCENARIO [record]: runs pgbench, appends a CSV row unless ROUND is "warmup".
run_cell() {
  local round=$1 target=$2 scen=$3 script mode clients
  IFS=- read -r script mode clients <<<"$scen"
  local flags=() rate=$SAMPLING
  case $script in
    S) flags=(-S) ;;
    B) flags=() ;;
    C) flags=(-C -S); rate=1 ;;
    *) say "unknown scenario $scen"; return ;;
  esac
  if [ "$target" = direct ] && [ "$clients" -gt "$DIRECT_MAX" ]; then
    [ "$round" = warmup ] || echo "$round,$target,$scen,$clients,,,,,,,skipped,,0,,,0,$(csvq "max_connections=500: direct above $DIRECT_MAX clients not run"),,,0" >>"$CSV"
    return
  fi
  local threads=2; [ "$clients" -lt 2 ] && threads=1
  local ld=$WORK/logs/$round-$target-$scen outf=$WORK/out/$round-$target-$scen.txt key=$target-$clients
  local attempt slack dur rc tps failed aborted errlines conn status err pct processed window cost sampler
  local pid=${POOLER_PID[$target]:-}
  mkdir -p "$WORK/out"
  [ "$round" = warmup ] || say "round $round  $target  $scen"
  for attempt in 1 2; do
    # pgbench's -T clock starts before its clients have connected, and tps is computed over the time left
    # after the initial connections; so big client counts get time to connect (SCRAM) on top of -T:
    # first a guess from BENCH_CONNECT_RATE, then 1.2 x the connection time measured for this target
    # and client count; a cell whose measured window came out short is run once more with that.
    # (measured connection times under a tenth of -T are not compensated)
    slack=0
    if [ "$script" != C ]; then
      if [ -n "${CONN_EST[$key]:-}" ]; then
        slack=$(awk -v c="${CONN_EST[$key]}" -v s="$SECS" 'BEGIN{printf "%d", (c > s/10) ? c*1.2 + 1 : 0}')
      elif [ "$clients" -gt 50 ]; then
        slack=$(( (clients + CONNECT_RATE - 1) / CONNECT_RATE ))
      fi
    fi
    dur=$((SECS + slack))
    rm -rf "$ld"; mkdir -p "$ld"
    # the pooler's CPU time and context switches, sampled through the run (bench/proccost.py)
    sampler=""
    if [ -n "$pid" ] && [ "$round" != warmup ]; then
      "$PYTHON" "$BENCH_DIR/proccost.py" sample "$pid" "$ld/cost" & sampler=$!
    fi
    timeout --kill-after=10 $((dur + 300)) pgbench -n -M "$mode" "${flags[@]}" -c "$clients" -j "$threads" -T "$dur" \
      -h 127.0.0.1 -p "${PORT[$target]}" -U postgres -l --log-prefix="$ld/tx" --sampling-rate="$rate" bench >"$outf" 2>&1
    rc=$?
    [ -n "$sampler" ] && { kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; }
    [ "$round" = warmup ] && { rm -rf "$ld"; return; }
    tps=$(grep -oP '^tps = \K[0-9.]+' "$outf" | head -1)
    failed=$(grep -oP '^number of failed transactions: \K[0-9]+' "$outf" | head -1)
    conn=$(grep -oP '^(average|initial) connection time = \K[0-9.]+' "$outf" | head -1)
    # stderr of pgbench's two threads can interleave mid-line: count occurrences, not lines
    aborted=$(grep -o 'aborted in command' "$outf" | wc -l)
    errlines=$(grep -o 'error:' "$outf" | wc -l)
    processed=$(grep -oP '^number of transactions actually processed: \K[0-9]+' "$outf" | head -1)
    # measured window: -T minus the initial connection time (not for -C, where connecting is the work)
    window=$dur
    [ "$script" != C ] && [ -n "$conn" ] && window=$(awk -v d="$dur" -v c="$conn" 'BEGIN{printf "%.1f", d - c/1000}')
    # percentiles (nearest rank) of the per-transaction latency column (µs); "failed"/"skipped" rows excluded
    pct=$(cat "$ld"/tx* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {print $3}' | sort -n \
          | awk '{a[NR]=$1} END{ if (NR==0) {print ",,0"; exit}
                   i=int(NR*0.50); if (i<NR*0.50) i++; j=int(NR*0.99); if (j<NR*0.99) j++;
                   printf "%.3f,%.3f,%d\n", a[i]/1000, a[j]/1000, NR }')
    cost="- - 0"
    [ -n "$sampler" ] && cost=$("$PYTHON" "$BENCH_DIR/proccost.py" per-tx "$ld/cost" "$rate" "$ld"/tx* 2>/dev/null || echo "- - 0")
    rm -rf "$ld"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status=timeout
    elif [ -z "$tps" ]; then status=error
    elif [ "$aborted" -gt 0 ] || [ $rc -ne 0 ]; then status=aborted
    elif [ "${failed:-0}" -gt 0 ]; then status=failed
    elif [ "$errlines" -gt 0 ]; then status=errors
    elif awk -v w="$window" -v s="$SECS" 'BEGIN{exit !(w < s/2)}'; then status=short_window
    else status=ok; fi
    [ "$script" != C ] && [ -n "$conn" ] && CONN_EST[$key]=$(awk -v c="$conn" 'BEGIN{print c/1000}')
    # retry once when the clients merely had no time left after connecting
    if [ $attempt = 1 ] && [ "$script" != C ] && { [ $status = short_window ] ||
         { [ $status = error ] && [ $rc = 0 ] && [ "${processed:-x}" = 0 ] && [ "$aborted" = 0 ]; }; }; then
      [ -n "$conn" ] || CONN_EST[$key]=$((dur * 2))
      if [ -n "$conn" ]; then say "  -> only ${window}s measured after connecting (-T $dur); again with more connection time"
      else say "  -> no transaction within -T $dur s (clients still connecting); again with more connection time"; fi
      continue
    fi
    break
  done
  err=""
  [ "$status" = ok ] || err=$(grep -m1 -iE 'error|fatal|abort' "$outf" | sed -E 's/^(pgbench: ?)+//; s/^ ?error: //' | cut -c1-200)
  [ "$status" = timeout ] && err="pgbench killed after $((dur + 300)) s${err:+: $err}"
  [ "$status" = short_window ] && err="only $window s measured of -T $dur s after the initial connections (lower BENCH_CONNECT_RATE)"
  [ "$status" = error ] && [ -z "$err" ] && err="no tps line: ${processed:-?} transactions processed, initial connection time ${conn:-?} ms of -T $dur s"
  [ "$status" = ok ] || say "  -> $status (exit $rc, failed ${failed:-?}, aborted clients $aborted, error lines $errlines): $err"
  echo "$round,$target,$scen,$clients,${tps},${pct%,*},${failed},$aborted,$errlines,$status,$rc,${pct##*,},${conn},$window,$attempt,$(csvq "$err"),$(awk '{printf "%s,%s,%s", ($1=="-"?"":$1), ($2=="-"?"":$2), $3}' <<<"$cost")" >>"$CSV"
}

# --- measure -----------------------------------------------------------------------------------------
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine distorts the numbers)"
if [ "$WARMUP" -gt 0 ]; then
  for t in "${RUN_TARGETS[@]}"; do
    [ "$t" = direct ] && continue
    say "warm-up $t: S-simple-50 for $WARMUP s (not recorded)"
    SECS_SAVE=$SECS; SECS=$WARMUP; run_cell warmup "$t" S-simple-50; SECS=$SECS_SAVE
  done
fi
# limit scenarios: only those whose script+mode occurs in the scenario list
USED_LIMITS=()
for l in $LIMITS; do
  for s in $SCENARIOS; do [ "${l%-*}" = "${s%-*}" ] && { USED_LIMITS+=("$l"); break; }; done
done
for r in $(seq "$ROUNDS"); do
  for s in $SCENARIOS; do
    for t in "${RUN_TARGETS[@]}"; do run_cell "$r" "$t" "$s"; done
  done
  if [[ " ${RUN_TARGETS[*]} " = *" direct "* ]]; then
    for l in "${USED_LIMITS[@]}"; do run_cell "$r" direct "$l"; done
  fi
done
END=$(date -u +%Y-%m-%dT%H:%M:%SZ)
BENCH_COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$REPO" status --porcelain -- bench 2>/dev/null)" ] && BENCH_COMMIT="$BENCH_COMMIT+uncommitted"

# --- metadata + report -----------------------------------------------------------------------------
{
  echo "start=$START"
  echo "end=$END"
  echo "cpus=$(nproc)"
  echo "cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "postgresql=$PG_VERSION"
  echo "pgbench=$(pgbench --version | head -1)"
  echo "pgbouncer=$PGB_VERSION"
  echo "pgferry_commit=$FERRY_COMMIT"
  echo "pgferry_jar=${JAR#"$REPO"/}"  # no machine path in the committed meta.txt
  echo "bench_commit=$BENCH_COMMIT"
  echo "load_before=$LOAD_BEFORE"
  echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "rounds=$ROUNDS"
  echo "seconds=$SECS"
  echo "pool=$POOL"
  echo "sampling=$SAMPLING"
  echo "targets=${RUN_TARGETS[*]}"
  for t in $TARGETS; do [ -n "${SKIP[$t]:-}" ] && echo "skipped_$t=${SKIP[$t]}"; done
  echo "note=${BENCH_NOTE:-}"
} >"$WORK/meta.txt"
cp "$CSV" "$WORK/meta.txt" "$OUT/" || die "cannot write $OUT"
say "raw pgbench output of every cell: $WORK/out/ (pgferry log: $WORK/pgferry.log)"
"$PYTHON" "$BENCH_DIR/report.py" "$OUT" || die "report.py failed"
say "done: $OUT/results.md $OUT/results.csv $OUT/tps_vs_clients.png"
