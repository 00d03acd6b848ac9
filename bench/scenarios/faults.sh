# R1 to R4: fault drills on the main bench server (sourced by run.sh). Each prints what it
# expected and what it saw through its result row.
SERVICES="$ROOT/scripts/services.sh"
now() { date +%s.%N; }

# Probes /health, /health/db, /health/ready and GET item at 20 req/s each for 30 s while
# $1 (postgres or redis) is stopped from second 5 to second 15; records the rows with $2.
outage_drill() {
  local dependency="$1" scenario="$2" dfid item down back_begin back series="$WORK/$2-series.json"
  dfid=$(head -1 "$WORK/dfids-1k.txt")
  item="/api/items/$dfid"
  python3 "$BENCH_DIR/probe.py" --series "$series" 30 20 "$BASE/health" "$BASE/health/db" "$BASE/health/ready" \
    "$BASE$item|Authorization: Bearer $TOKEN" >/dev/null &
  local probe_pid=$!
  sleep 5
  "$SERVICES" "stop-$dependency"
  down=$(now)
  sleep 10
  back_begin=$(now)
  "$SERVICES" "start-$dependency"
  back=$(now)
  wait "$probe_pid"
  if [ "$scenario" = r1 ]; then record r1 "$series" "$down" "$back_begin" "$back" "$item" 2000
  else record r2 "$series" "$down" "$back_begin" "$back" "$item"; fi
}

scenario_r1() { main_server; outage_drill postgres r1; }
scenario_r2() { main_server; outage_drill redis r2; }

# R3: two webhooks on one circuit, one flaky (500, then a stall past the timeout, then 200) and
# one that always answers 500 with one retry; the receiver is down for the first seconds and the
# service restarts while deliveries are retrying.
scenario_r3() {
  main_server
  local port=$((BENCH_PORT + 51)) file="$WORK/r3-received.jsonl" circuit lids times=() started
  stop_server
  start_server "$MAIN_DB" WEBHOOK_TIMEOUT_MS=1000
  TOKEN=$(login_token "$ADMIN_USER" "$ADMIN_PASSWORD")
  circuit=$(webhook_circuit "http://127.0.0.1:$port/flaky" \
    '{"max_retries":6,"initial_delay_ms":500,"max_delay_ms":4000,"backoff_multiplier":2.0}')
  api POST "/api/circuits/$circuit/post-actions/webhooks" "{\"name\":\"always 500\",\"url\":\"http://127.0.0.1:$port/fail\",\"retry_config\":{\"max_retries\":1,\"initial_delay_ms\":500,\"max_delay_ms\":1000,\"backoff_multiplier\":2.0}}" >/dev/null
  lids=$(local_items 30 "r3-$RANDOM")
  started=$SECONDS
  while read -r lid; do
    times+=("$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
      -d "{\"local_id\":\"$lid\"}" "$BASE/api/circuits/$circuit/push-local")")
  done <"$lids"
  sleep 1
  log "restarting the service while deliveries retry"
  stop_server
  start_server "$MAIN_DB" WEBHOOK_TIMEOUT_MS=1000
  sleep 1
  : >"$file"
  start_receiver "$port" "$file"
  drain_deliveries 120
  local settle=$((SECONDS - started)) counts summary p99
  counts=$(psql "$MAIN_DB" -qAt -F' ' -c "SELECT
      count(*) FILTER (WHERE w.url LIKE '%/flaky' AND d.status = 'Delivered'),
      count(*) FILTER (WHERE w.url LIKE '%/fail' AND d.status = 'Failed'),
      count(*) FILTER (WHERE d.status NOT IN ('Delivered', 'Failed')),
      (SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d2 ON d2.delivery_id = a.delivery_id
        JOIN webhooks w2 ON w2.webhook_id = d2.webhook_id WHERE w2.circuit_id = '$circuit' AND w2.url LIKE '%/flaky')
    FROM webhook_deliveries d JOIN webhooks w ON w.webhook_id = d.webhook_id WHERE w.circuit_id = '$circuit'")
  summary=$(python3 "$BENCH_DIR/receiver.py" summary "$file")
  stop_receiver
  stop_server # the next scenario starts the main server with the default timeout again
  p99=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.1f", a[i]*1000}')
  read -r flaky failed open attempts <<<"$counts"
  record r3 "$(jq -cn --argjson pushes "${#times[@]}" --argjson flaky "$flaky" --argjson failed "$failed" \
    --argjson open "$open" --argjson attempts "$attempts" --argjson p99 "$p99" --argjson settle "$settle" \
    --argjson summary "$summary" '{pushes: $pushes, push_p99_ms: $p99, flaky_delivered: $flaky,
      failing_failed: $failed, lost: ($pushes * 2 - $flaky - $failed), open: $open,
      flaky_attempts: $attempts, duplicates: $summary.duplicates, settle_s: $settle}')"
}

REPLICA_PID=""
stop_replica() {
  if [ -n "$REPLICA_PID" ] && kill -0 "$REPLICA_PID" 2>/dev/null; then
    kill -TERM "$REPLICA_PID"; wait "$REPLICA_PID" 2>/dev/null || true
  fi
  REPLICA_PID=""
}

# R4: the main server and a replica on the next port, on one database and Redis.
scenario_r4() {
  main_server
  local limit=40 requests=60 replica_port=$((BENCH_PORT + 1)) port=$((BENCH_PORT + 52))
  local replica="http://127.0.0.1:$((BENCH_PORT + 1))" file="$WORK/r4-received.jsonl"
  stop_server
  start_server "$MAIN_DB" RATE_LIMIT_PER_HOUR_BASIC=$limit
  server_process "$MAIN_DB" "$replica_port" RATE_LIMIT_PER_HOUR_BASIC=$limit
  REPLICA_PID=$!
  wait_healthy "$replica"
  TOKEN=$(login_token "$ADMIN_USER" "$ADMIN_PASSWORD")

  local user="limited$RANDOM" user_token ok=0 limited=0 status
  register_user "$user" "$ADMIN_PASSWORD"
  user_token=$(login_token "$user" "$ADMIN_PASSWORD")
  for i in $(seq "$requests"); do
    local target=$BASE; [ $((i % 2)) = 0 ] && target=$replica
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $user_token" "$target/api/circuits")
    case "$status" in 200) ok=$((ok + 1)) ;; 429) limited=$((limited + 1)) ;; esac
  done

  start_receiver "$port" "$file"
  local circuit lids pushes=0
  circuit=$(webhook_circuit "http://127.0.0.1:$port/ok")
  lids=$(local_items 200 "r4-$RANDOM")
  awk -v a="$BASE" -v b="$replica" '{print (NR % 2 ? a : b) " " $1}' "$lids" |
    xargs -P 8 -L 1 sh -c 'curl -fsS -o /dev/null -H "Authorization: Bearer '"$TOKEN"'" -H "content-type: application/json" \
      -d "{\"local_id\":\"$1\"}" "$0/api/circuits/'"$circuit"'/push-local" && echo pushed' >"$WORK/r4-pushes.txt"
  pushes=$(grep -c pushed "$WORK/r4-pushes.txt")
  drain_deliveries 120
  local rows summary
  rows=$(psql "$MAIN_DB" -qAt -c "SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.webhook_id = d.webhook_id WHERE w.circuit_id = '$circuit'")
  summary=$(python3 "$BENCH_DIR/receiver.py" summary "$file")
  stop_receiver

  # The limited user has spent its hourly requests; the socket belongs to a fresh user.
  local socket_ms listener="listener$RANDOM" listener_token listener_id
  register_user "$listener" "$ADMIN_PASSWORD"
  listener_token=$(login_token "$listener" "$ADMIN_PASSWORD")
  listener_id=$(curl -fsS -H "Authorization: Bearer $listener_token" "$BASE/api/users/me" | jq -r .user_id)
  socket_ms=$(python3 "$BENCH_DIR/socket_probe.py" "ws://127.0.0.1:$replica_port/api/notifications/ws" "$listener_token" \
    "$BASE/api/admin/users/$listener_id/tier" "$TOKEN" '{"tier":"Professional"}')

  local revocation
  revocation=$(python3 "$BENCH_DIR/revocation_probe.py" "$BASE" "$replica" "$ADMIN_USER" "$ADMIN_PASSWORD" 20)

  local load_a load_b
  export DFID_FILE="$WORK/dfids-1k.txt"
  run_wrk 16 15s "$BENCH_DIR/dfid_paths.lua" "$BASE" "Authorization: Bearer $TOKEN" >"$WORK/r4-a.json" &
  local wrk_a=$!
  load_b=$(run_wrk 16 15s "$BENCH_DIR/dfid_paths.lua" "$replica" "Authorization: Bearer $TOKEN")
  wait "$wrk_a"
  load_a=$(cat "$WORK/r4-a.json")
  stop_replica
  stop_server
  record r4 "$(jq -cn --argjson limit "$limit" --argjson requests "$requests" --argjson ok "$ok" --argjson limited "$limited" \
    --argjson pushes "$pushes" --argjson rows "$rows" --argjson summary "$summary" --argjson socket "$socket_ms" \
    --argjson a "$load_a" --argjson b "$load_b" --argjson revocation "$revocation" \
    --argjson batch "${RATE_LIMIT_BATCH:-10}" '{limit: $limit, batch: $batch, revocation: $revocation, limit_requests: $requests, limited_ok: $ok,
      limited_429: $limited, pushes: $pushes, rows: $rows, received: $summary.received_unique,
      duplicates: $summary.duplicates, socket_ms: $socket, load_rps: ($a.rps + $b.rps),
      load_errors: ([$a, $b] | map(.socket_errors + .requests - (.statuses["200"] // 0)) | add)}')"
}
