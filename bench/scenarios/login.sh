# P4 and P5: the original system's login scenario (10 concurrent clients for 60 s) and the freeze
# test (50 concurrent logins while probes hit cheap routes at 20 req/s each), on a server of their
# own (sourced by run.sh), with the server's RSS before and after the storm (P8's third bound).
# LOGIN_SECONDS shortens the runs.
LOGIN_SECONDS="${LOGIN_SECONDS:-60}"
LOGIN_PASSWORD='Bench-login1!'

login_server() {
  [ "$SERVER_DB" = "${LOGIN_DB:-none}" ] && return 0
  LOGIN_DB=$(fresh_database defarm_bench_login)
  start_server "$LOGIN_DB"
  for i in $(seq 10); do register_user "login-$i" "$LOGIN_PASSWORD"; done
  register_user prober "$LOGIN_PASSWORD"
  # Bench users are tier Admin: the limiter runs, without a ceiling the probes would reach.
  local admin prober_id
  admin=$(login_token "$ADMIN_USER" "$ADMIN_PASSWORD")
  prober_id=$(curl -fsS -H "Authorization: Bearer $(login_token prober "$LOGIN_PASSWORD")" "$BASE/api/users/me" | jq -r .user_id)
  curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $admin" -H 'content-type: application/json' \
    -d '{"tier":"Admin"}' "$BASE/api/admin/users/$prober_id/tier"
}

scenario_p4() {
  login_server
  local cores hash_ms
  cores=$(nproc)
  hash_ms=$(hash_time_ms)
  export LOGIN_USERS=10 LOGIN_PASSWORD
  record p4 "$(run_wrk 10 "${LOGIN_SECONDS}s" "$BENCH_DIR/login.lua" "$BASE")" "$hash_ms" "$cores"
}

scenario_p5() {
  login_server
  local probe_token run dfid idle_rss
  probe_token=$(login_token prober "$LOGIN_PASSWORD")
  dfid=$(prober_item "$probe_token")
  idle_rss=$(rss_kb "$SERVER_PID")
  export LOGIN_USERS=10 LOGIN_PASSWORD
  python3 "$BENCH_DIR/probe.py" "$LOGIN_SECONDS" 20 "$BASE/health" "$BASE/health/db" \
    "$BASE/api/items/$dfid|Authorization: Bearer $probe_token" >"$WORK/probe.json" &
  local probe_pid=$!
  run=$(run_wrk 50 "${LOGIN_SECONDS}s" "$BENCH_DIR/login.lua" "$BASE")
  wait "$probe_pid"
  local storm_rss
  storm_rss=$(rss_kb "$SERVER_PID")
  # Idle hashing threads give their argon2 memory back after 5 s.
  sleep 10
  record p5 "$run" "$(cat "$WORK/probe.json")" "$idle_rss" "$storm_rss" "$(rss_kb "$SERVER_PID")"
}

# An item of the prober's, for the authenticated probe; prints its DFID.
prober_item() {
  local token="$1" circuit local
  circuit=$(curl -fsS -H "Authorization: Bearer $token" -H 'content-type: application/json' -d '{"name":"Probe"}' "$BASE/api/circuits" | jq -r .circuit_id)
  local=$(curl -fsS -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"identifiers":[{"key":"lote","value":"probe"}]}' "$BASE/api/items/local" | jq -r .local_id)
  curl -fsS -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "{\"local_id\":\"$local\"}" \
    "$BASE/api/circuits/$circuit/push-local" | jq -r .dfid
}
