#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL and Redis on loopback for tests and benches, installing
# them from Debian packages when missing. Usage:
#   scripts/services.sh start   -> prints the TEST_DATABASE_URL / TEST_REDIS_URL exports
#   scripts/services.sh stop
#   scripts/services.sh stop-postgres|start-postgres|stop-redis|start-redis   (fault drills)
# Ports and the data directory can be changed with PG_PORT, REDIS_PORT, SERVICES_DIR.
set -euo pipefail

PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
SERVICES_DIR="${SERVICES_DIR:-/tmp/defarm-services}"
PG_DATA="$SERVICES_DIR/pg"
PG_USER=defarm
PG_PASSWORD=defarm

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$dir" ] && echo "$dir"
}

install_missing() {
  local packages=()
  [ -n "$(pg_bin)" ] || packages+=(postgresql)
  command -v redis-server >/dev/null || packages+=(redis-server)
  if [ ${#packages[@]} -gt 0 ]; then
    echo "installing ${packages[*]}" >&2
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >&2
  fi
}

# PostgreSQL refuses to run as root, so the cluster belongs to the postgres user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

start() {
  install_missing
  mkdir -p "$SERVICES_DIR"
  chmod 777 "$SERVICES_DIR"
  start_postgres
  start_redis
  echo "export TEST_DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

start_postgres() {
  local bin; bin=$(pg_bin)
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    mkdir -p "$PG_DATA"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DATA"
    echo "$PG_PASSWORD" > "$SERVICES_DIR/pwfile"
    chmod 644 "$SERVICES_DIR/pwfile"
    as_postgres "$bin/initdb -D $PG_DATA -U $PG_USER --pwfile=$SERVICES_DIR/pwfile -A scram-sha-256 --no-sync" >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl -D $PG_DATA status" >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl -D $PG_DATA -l $SERVICES_DIR/pg.log -w -t 30 \
      -o '-p $PG_PORT -k $SERVICES_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start" >/dev/null
  fi
}

start_redis() {
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --logfile "$SERVICES_DIR/redis.log" --pidfile "$SERVICES_DIR/redis.pid" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

stop_postgres() {
  local bin; bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -f "$PG_DATA/PG_VERSION" ]; then
    as_postgres "$bin/pg_ctl -D $PG_DATA -m fast -w stop" >/dev/null 2>&1 || true
  fi
}

stop_redis() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop_postgres; stop_redis ;;
  start-postgres) start_postgres ;;
  stop-postgres) stop_postgres ;;
  start-redis) start_redis ;;
  stop-redis) stop_redis ;;
  *) echo "usage: $0 start|stop|start-postgres|stop-postgres|start-redis|stop-redis" >&2; exit 2 ;;
esac
