# Shared helpers for bench/run.sh and bench/memory.sh (sourced, not run).
# Expects: BENCH_DIR, REPO, WORK set by the caller.

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# The environment scripts: ../shared/pg next to the repo when present, else the copies in bench/pg.
pick_pgdir() {
  PGDIR=$REPO/../shared/pg
  [ -x "$PGDIR/pgenv.sh" ] && [ -x "$PGDIR/pgbouncer.sh" ] || PGDIR=$BENCH_DIR/pg
  say "environment scripts: $PGDIR"
}

# The interpreter itself, resolved once in the foreground: a pyenv shim as python3 can hang when started in the
# background (the cost sampler) or under timeout.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)

raise_fd_limit() {
  ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

# The PgBouncer to measure: PGB_BIN, else the one on PATH, else Debian's. Exported: pgbouncer.sh runs $PGB_BIN.
PGB_BIN=${PGB_BIN:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
export PGB_BIN
pgbouncer_version() { "$PGB_BIN" --version | head -1; }

# The JVM options pgferry runs with in every bench (BENCH_FERRY_JVM overrides them). A fixed young generation
# (-Xmn64m): pgferry's relay allocates next to nothing and a login about 8 KB, so 64 MiB is plenty, and a fixed
# size is touched once, while the server starts, instead of growing page by page as the first clients log in
# (ParallelGC's adaptive sizing charged that growth, up to its eden of ~85 MiB, to whatever connected first).
# BENCH_FERRY_JVM="" (set, empty) runs the JVM with its defaults, as a plain `java -jar` does.
FERRY_JVM=${BENCH_FERRY_JVM--Xms256m -Xmx1g -Xmn64m -XX:+UseParallelGC}

# start_pgferry JAR PORT HTTP_PORT POOL BACKEND_PORT [BACKEND_HOST] [NAME]: starts the packaged jar (production
# profile) with a users file for the pgenv.sh users and waits for 'select 1'. BACKEND_HOST: 127.0.0.1 (default) or
# the directory of PostgreSQL's Unix socket. Sets FERRY_PID and FERRY_COMMIT on success; on failure sets FERRY_SKIP
# to the reason and returns 1. Log: $WORK/NAME.log (NAME: pgferry). Extra options: BENCH_FERRY_OPTS.
start_pgferry() {
  local jar=$1 port=$2 http=$3 pool=$4 pg=$5 host=${6:-127.0.0.1} name=${7:-pgferry}
  local log=$WORK/$name.log
  FERRY_PID="" FERRY_SKIP="" FERRY_COMMIT="n/a"
  if [ "${BENCH_BUILD:-0}" = 1 ]; then
    say "building pgferry: ./mvnw -B -q package -DskipTests"
    (cd "$REPO" && ./mvnw -B -q package -DskipTests) || { FERRY_SKIP="build failed"; return 1; }
  fi
  if [ ! -f "$jar" ]; then
    FERRY_SKIP="jar $jar not found (build it with ./mvnw -B -q package -DskipTests, BENCH_BUILD=1, or set BENCH_JAR)"
    return 1
  fi
  command -v java >/dev/null || { FERRY_SKIP="no java on PATH"; return 1; }
  FERRY_COMMIT=$(git -C "$(dirname "$jar")" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git -C "$(dirname "$jar")" status --porcelain -- ":/src" ":/pom.xml" 2>/dev/null)" ] && FERRY_COMMIT="$FERRY_COMMIT+uncommitted"
  printf '"postgres" "secret"\n"scram_u" "scram_pw"\n"md5_u" "md5_pw"\n"plain_u" "plain_pw"\n' >"$WORK/userlist.txt"
  say "$name on $port (backend $host) from $jar (commit $FERRY_COMMIT), log $log"
  # In a session of its own (setsid), as a service manager would start it and as 'pgbouncer -d' daemonizes:
  # with the kernel's autogroup scheduling (sched_autogroup_enabled) a pooler left in this script's session
  # would share one CPU-time group with pgbench. setsid does not fork here (a background subshell is no process
  # group leader), so FERRY_PID stays the JVM's pid.
  # shellcheck disable=SC2086
  (unset QUARKUS_PROFILE; cd "$(dirname "$jar")" && exec setsid java $FERRY_JVM \
      -Dquarkus.http.port="$http" -Dpgferry.listen-port="$port" \
      -Dpgferry.backend.host="$host" -Dpgferry.backend.port="$pg" \
      -Dpgferry.auth.users-file="$WORK/userlist.txt" -Dpgferry.pool.size="$pool" \
      -Dpgferry.pool.mode=transaction ${BENCH_FERRY_OPTS:-} -jar "$jar") >"$log" 2>&1 &
  FERRY_PID=$!
  local _
  for _ in $(seq 120); do
    PGPASSWORD=secret psql -h 127.0.0.1 -p "$port" -U postgres -tAc 'select 1' bench >/dev/null 2>&1 && return 0
    kill -0 "$FERRY_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$FERRY_PID" 2>/dev/null; then
    FERRY_SKIP="did not answer 'select 1' within 60 s (log: $log)"
  else
    FERRY_SKIP="exited before answering 'select 1': $(tail -1 "$log" | cut -c1-160) (log: $log)"
  fi
  say "pgferry log tail:"; tail -20 "$log" >&2
  kill "$FERRY_PID" 2>/dev/null; wait "$FERRY_PID" 2>/dev/null; FERRY_PID=""
  return 1
}

stop_pgferry() {
  [ -n "${FERRY_PID:-}" ] || return 0
  kill "$FERRY_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$FERRY_PID" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$FERRY_PID" 2>/dev/null
  wait "$FERRY_PID" 2>/dev/null
  FERRY_PID=""
}

rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status" 2>/dev/null; }
