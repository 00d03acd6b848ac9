# Shared by the bench scripts: build, services, a server on PostgreSQL + Redis, and helpers.
# Source it; it expects to run from anywhere inside the repository.

set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
WORK="$BENCH_DIR/work"
BIN="${BENCH_BIN:-$ROOT/target/production/defarm}"
BENCH_PORT="${BENCH_PORT:-3900}"
BASE="http://127.0.0.1:$BENCH_PORT"
ADMIN_USER=benchadmin
ADMIN_PASSWORD='Bench-adm1n!pass'
mkdir -p "$WORK"

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v jq >/dev/null || missing+=(jq)
  command -v curl >/dev/null || missing+=(curl)
  command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2
    else sudo apt-get update -qq >&2 && sudo apt-get install -y -qq "${missing[@]}" >&2; fi
  fi
  python3 -c 'import websockets' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check websockets >&2
}

build_binaries() {
  [ -n "${BENCH_BIN:-}" ] && { log "running $BENCH_BIN, not building"; return 0; }
  log "building the production binary (the Dockerfile's profile)"
  (cd "$ROOT" && cargo build --profile production --quiet --bin defarm \
    && cargo build --profile production --quiet --example bare_health)
}

start_services() {
  eval "$("$ROOT/scripts/services.sh" start)"
  export TEST_DATABASE_URL TEST_REDIS_URL
}

# A fresh database named $1 on the bench PostgreSQL; prints its URL.
fresh_database() {
  local name="$1"
  psql "$TEST_DATABASE_URL" -qAt -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
  echo "${TEST_DATABASE_URL%/*}/$name"
}

SERVER_PID=""
SERVER_DB=""
# Starts the release server on $1 (database URL) with the bench settings plus any extra
# VAR=value arguments; waits for /health. The settings are the ones every result states.
start_server() {
  local url="$1"; shift
  stop_server
  server_process "$url" "$BENCH_PORT" "$@"
  SERVER_PID=$!
  SERVER_DB="$url"
  wait_healthy "$BASE"
  # A healthy answer from another process on the port would measure the wrong server.
  kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited; is port $BENCH_PORT taken?"; return 1; }
}

# Starts one more server process in the background on database $1 and port $2 ($! is its pid).
server_process() {
  local url="$1" port="$2"; shift 2
  # One key for the whole run, set here and not inside the backgrounded command (a subshell).
  : "${BENCH_LOG_KEY:=$("$BIN" log keygen | sed -n 1p)}"
  env DATABASE_URL="$url" REDIS_URL="$TEST_REDIS_URL" PORT="$port" HOST=127.0.0.1 \
    JWT_SECRET=bench-secret-bench-secret-bench-secret-00 SECRETS_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \
    LOG_SIGNING_KEY="$BENCH_LOG_KEY" \
    DEFARM_ADMIN_USERNAME=$ADMIN_USER DEFARM_ADMIN_EMAIL=bench@example.com DEFARM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    RATE_LIMIT_PUBLIC_PER_MINUTE=0 LOGIN_MAX_FAILURES=0 DB_POOL_MAX=32 RUST_LOG=warn WEBHOOK_ALLOW_PRIVATE=true \
    MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0 \
    "$@" "$BIN" serve >>"$WORK/server-$port.log" 2>&1 &
}

wait_healthy() {
  local base="${1:-$BASE}"
  for _ in $(seq 400); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return 0
    sleep 0.025
  done
  log "server at $base did not become healthy"; tail -20 "$WORK"/server-*.log >&2; return 1
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
  SERVER_DB=""
}

# Resident memory of process $1 in KiB.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

RECEIVER_PID=""
# A webhook receiver on $1 (port) writing what it got to $2 (JSON lines); see receiver.py.
start_receiver() {
  stop_receiver
  python3 "$BENCH_DIR/receiver.py" "$1" "$2" &
  RECEIVER_PID=$!
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$1/ok" -d '{}' 2>/dev/null && break; sleep 0.05; done
  : >"$2"
}

stop_receiver() {
  if [ -n "$RECEIVER_PID" ] && kill -0 "$RECEIVER_PID" 2>/dev/null; then
    kill "$RECEIVER_PID"; wait "$RECEIVER_PID" 2>/dev/null || true
  fi
  RECEIVER_PID=""
}

# Calls the API as the bench admin: api <method> <path> [json body]; prints the body, fails on non-2xx.
api() {
  curl -fsS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"} "$BASE$2"
}

# Appends result rows: record <rows.py scenario> <arguments...>
record() { python3 "$BENCH_DIR/rows.py" "$@" | tee -a "$ROWS" >&2; }

# Logs in as $1/$2 and prints the token.
login_token() {
  curl -fsS -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$BASE/api/auth/login" | jq -r .token
}

# Registers $1 with password $2 (ignores "taken").
register_user() {
  curl -sS -o /dev/null -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$2\"}" "$BASE/api/auth/register"
}

# Measures one argon2id verification in this build (the login ceiling).
hash_time_ms() {
  (cd "$ROOT" && cargo run --profile production --quiet --example hash_time 2>/dev/null)
}

# Runs wrk and prints its summary as JSON (rps, latency percentiles in ms, errors).
# Usage: run_wrk <connections> <duration> <lua script or ""> <url> [header...]
# run_wrk <connections> <duration> <lua script or ""> <url> [header...]: prints wrk's JSON report.
# Called as `PROFILE_NAME=x run_wrk ...` with BENCH_PROFILE=1, it also records a flame graph.
run_wrk() {
  local connections="$1" duration="$2" script="$3" url="$4"; shift 4
  local args=("-t$((connections < 2 ? connections : 2))" "-c$connections" "-d$duration" --latency -s "$BENCH_DIR/report.lua")
  [ -n "$script" ] && export WRK_SCRIPT="$script"
  for header in "$@"; do args+=(-H "$header"); done
  local perf_pid=""
  if [ "${BENCH_PROFILE:-0}" = 1 ] && [ -n "${PROFILE_NAME:-}" ]; then
    # 10 s of the server's stacks from the run's third second (the sampling costs a few %).
    (sleep 2; perf record -q -e cpu-clock -F 199 --call-graph dwarf,16384 -p "$SERVER_PID" \
      -o "$WORK/perf-$PROFILE_NAME.data" -- sleep 10) >/dev/null 2>&1 &
    perf_pid=$!
  fi
  wrk "${args[@]}" "$url" 2>&1 | sed -n '/^JSON /s/^JSON //p'
  unset WRK_SCRIPT
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid"
    flame_graph "$PROFILE_NAME"
  fi
}

flame_graph() {
  local name="$1" out="$ROOT/bench/results/flame-$commit-$1.svg"
  # The folded stacks stay in $WORK for questions the picture does not answer.
  perf script --no-inline -i "$WORK/perf-$name.data" 2>/dev/null | inferno-collapse-perf >"$WORK/$commit-$name.folded" 2>/dev/null
  inferno-flamegraph --title "$name, $commit" <"$WORK/$commit-$name.folded" >"$out" 2>/dev/null && log "flame graph: $out"
  # The top frames by self time, for the closing note.
  perf report --no-inline -i "$WORK/perf-$name.data" --no-children --sort symbol --stdio 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -15 >"$ROOT/bench/results/flame-$commit-$name.top.txt"
  rm -f "$WORK/perf-$name.data"
}
