#!/usr/bin/env bash
# P4 and P5: the original system's login scenario (10 concurrent clients for 60 s) and the freeze
# test (50 concurrent logins while probes hit cheap routes at 20 req/s each), on a release build
# with PostgreSQL and Redis. Prints a table; LOGIN_SECONDS shortens the runs.
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${LOGIN_SECONDS:-60}"
PASSWORD='Bench-login1!'

ensure_tools
build_release
start_services
trap stop_server EXIT
url=$(fresh_database defarm_bench_login)
start_server "$url"
for i in $(seq 10); do register_user "login-$i" "$PASSWORD"; done
register_user prober "$PASSWORD"
probe_token=$(login_token prober "$PASSWORD")

cores=$(nproc)
hash_ms=$(hash_time_ms)
ceiling=$(awk -v c="$cores" -v h="$hash_ms" 'BEGIN { printf "%.1f", c * 1000 / h }')
log "argon2id verification: ${hash_ms} ms; ceiling ${ceiling} logins/s on ${cores} cores"

export LOGIN_USERS=10 LOGIN_PASSWORD="$PASSWORD"
log "P4: 10 concurrent logins for ${SECONDS_PER_RUN}s"
p4=$(run_wrk 10 "${SECONDS_PER_RUN}s" "$BENCH_DIR/login.lua" "$BASE")

log "P5: 50 concurrent logins for ${SECONDS_PER_RUN}s with probes at 20 req/s"
python3 "$BENCH_DIR/probe.py" "$SECONDS_PER_RUN" 20 "$BASE/health" "$BASE/health/db" \
  "$BASE/api/users/me|Authorization: Bearer $probe_token" >"$WORK/probe.json" &
probe_pid=$!
p5=$(run_wrk 50 "${SECONDS_PER_RUN}s" "$BENCH_DIR/login.lua" "$BASE")
wait "$probe_pid"
probes=$(cat "$WORK/probe.json")

echo "P4_JSON $p4"
echo "P5_JSON $p5"
echo "PROBES_JSON $probes"
echo "CEILING hash_ms=$hash_ms cores=$cores logins_per_s=$ceiling"
python3 "$BENCH_DIR/table.py" login "$p4" "$p5" "$probes" "$hash_ms" "$cores"
