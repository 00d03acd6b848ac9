# P8 (memory), P9 (start time) and the soak (sourced by run.sh).
SOAK_MINUTES="${SOAK_MINUTES:-10}"

# P8: RSS of the main server when it started (idle) and now, after whatever load ran on it; run
# alone, it loads the server with P1 and P3-shaped traffic first.
scenario_p8() {
  main_server
  if [ "$MAIN_LOADED" != yes ]; then
    run_wrk 32 20s "" "$BASE/health" >/dev/null
    DFID_FILE="$WORK/dfids-1k.txt" run_wrk 32 20s "$BENCH_DIR/dfid_paths.lua" "$BASE" "Authorization: Bearer $TOKEN" >/dev/null
  fi
  record p8 "$MAIN_IDLE_RSS" "$(rss_kb "$SERVER_PID")"
}

# P9: from exec to the first /health 200 on the already migrated main database, five times.
scenario_p9() {
  main_server
  local url="$MAIN_DB" times=() started elapsed
  stop_server
  for _ in 1 2 3 4 5; do
    started=$(date +%s%N)
    server_process "$url" "$BENCH_PORT"
    local pid=$!
    until curl -fsS -o /dev/null "$BASE/health" 2>/dev/null; do sleep 0.005; done
    elapsed=$((($(date +%s%N) - started) / 1000000))
    times+=("$elapsed")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  done
  record p9 "$(IFS=,; echo "${times[*]}")"
}

# The soak: a mixed workload (GET item 70 %, POST local item 20 %, GET /health/db 10 %) at 16
# connections for SOAK_MINUTES, in one-minute wrk runs; RSS after each minute.
scenario_soak() {
  main_server
  local minutes=() rss=() run
  export DFID_FILE="$WORK/dfids-1k.txt"
  for minute in $(seq "$SOAK_MINUTES"); do
    run=$(run_wrk 16 60s "$BENCH_DIR/mix.lua" "$BASE" "Authorization: Bearer $TOKEN")
    minutes+=("$(jq -c '{p99_ms, rps, errors: (.socket_errors + .requests - ([.statuses["200"], .statuses["201"]] | map(. // 0) | add))}' <<<"$run")")
    rss+=("$(rss_kb "$SERVER_PID")")
    log "soak minute $minute: $(tail -c 200 <<<"${minutes[-1]}") rss ${rss[-1]} KiB"
  done
  local soak
  soak=$(jq -cn --argjson minutes "[$(IFS=,; echo "${minutes[*]}")]" --argjson rss "[$(IFS=,; echo "${rss[*]}")]" \
    '{minutes: $minutes, rss_kb: $rss, mix: "soak: GET item 70 %, POST local 20 %, GET /health/db 10 %, 16 conns"}')
  record soak "$soak"
}
