#!/usr/bin/env bash
# Copy of ../shared/pg/pgenv.sh carried in the repo (bench/run.sh prefers the shared one when present).
# Start (or reuse) a private PostgreSQL cluster for measurements: port ${PGE_PORT:-55432} on 127.0.0.1.
# Users: postgres/secret (scram), scram_u/scram_pw (scram-sha-256), md5_u/md5_pw (md5), plain_u/plain_pw (password).
# Database bench is pgbench-initialised at scale ${PGE_SCALE:-10}. Usage: pgenv.sh start|stop|status
set -euo pipefail
PORT=${PGE_PORT:-55432}
DIR=${PGE_DIR:-/tmp/pgenv-$PORT}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
start)
  if [ -f "$DIR/data/postmaster.pid" ] && PGPASSWORD=secret "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAc 'select 1' postgres >/dev/null 2>&1; then exit 0; fi
  rm -rf "$DIR"; mkdir -p "$DIR"; echo secret >"$DIR/pw"; [ "$(id -u)" = 0 ] && chown -R postgres "$DIR"
  run "$BIN/initdb" -D "$DIR/data" -A scram-sha-256 --pwfile="$DIR/pw" -U postgres >"$DIR/initdb.log" 2>&1
  cat >"$DIR/data/pg_hba.conf" <<HBA
host all md5_u 127.0.0.1/32 md5
host all plain_u 127.0.0.1/32 password
host all all 127.0.0.1/32 scram-sha-256
local all all scram-sha-256
HBA
  run "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=500 -c shared_buffers=256MB" start >/dev/null
  export PGPASSWORD=secret
  "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -c "create user scram_u password 'scram_pw'" -c "create user plain_u password 'plain_pw'" -c "set password_encryption='md5'; create user md5_u password 'md5_pw'" -c "create database bench" -c "grant all on database bench to scram_u, md5_u, plain_u" postgres
  "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "grant all on schema public to public" bench
  "$BIN/pgbench" -i -q -s "${PGE_SCALE:-10}" -h 127.0.0.1 -p "$PORT" -U postgres bench >/dev/null 2>&1
  "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "grant all on all tables in schema public to public" bench
  ;;
stop) run "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true ;;
status) PGPASSWORD=secret "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAc 'select count(*) from pg_stat_activity' postgres ;;
esac
