#!/usr/bin/env bash
# Copy of ../shared/pg/pgbouncer.sh carried in the repo (bench/run.sh prefers the shared one when present);
# changes: also runs as a non-root user; PGB_HOST (default 127.0.0.1) may name PostgreSQL's Unix-socket directory.
# Start PgBouncer in transaction mode on ${PGB_PORT:-56432} in front of pgenv.sh's cluster.
# pool size ${PGB_POOL:-20}; users from pgenv.sh with their passwords; ulimit raised for big client counts.
set -euo pipefail
PORT=${PGB_PORT:-56432}; PG=${PGE_PORT:-55432}; DIR=/tmp/pgbouncer-$PORT
# PGB_BIN: the PgBouncer to run; default the one on PATH, else Debian's package is installed.
PGB_BIN=${PGB_BIN:-$(command -v pgbouncer || true)}
if [ -z "$PGB_BIN" ]; then command -v pgbouncer >/dev/null || { apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null; }; PGB_BIN=$(command -v pgbouncer); fi
PS=""; "$PGB_BIN" --version | head -1 | grep -qE ' 1\.(2[1-9]|[3-9][0-9])' && PS="max_prepared_statements = 200"
case "${1:-start}" in
start)
  [ -f "$DIR/pid" ] && kill "$(cat "$DIR/pid")" 2>/dev/null && sleep 1 || true
  mkdir -p "$DIR"
  cat >"$DIR/ini" <<INI
[databases]
* = host=${PGB_HOST:-127.0.0.1} port=$PG
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $DIR/users
pool_mode = ${PGB_MODE:-transaction}
default_pool_size = ${PGB_POOL:-20}
max_client_conn = 20000
$PS
logfile = $DIR/log
pidfile = $DIR/pid
admin_users = postgres
INI
  printf '"postgres" "secret"\n"scram_u" "scram_pw"\n"md5_u" "md5_pw"\n"plain_u" "plain_pw"\n' >"$DIR/users"
  ulimit -n 20000
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$DIR"
    # runuser resets the soft file limit: raise it again inside, up to the hard limit set above.
    runuser -u postgres -- sh -c 'ulimit -n 20000 && exec "$0" -d "$1"' "$PGB_BIN" "$DIR/ini"
  else
    "$PGB_BIN" -d "$DIR/ini"
  fi
  for i in $(seq 50); do PGPASSWORD=secret psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc 'select 1' bench >/dev/null 2>&1 && exit 0; sleep 0.1; done; echo "pgbouncer did not start"; exit 1 ;;
stop) [ -f "$DIR/pid" ] && kill "$(cat "$DIR/pid")" || true ;;
esac
