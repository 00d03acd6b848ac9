# P1, P2, P3, P6, P7: throughput and latency on the main bench server (sourced by run.sh).
RUN_SECONDS="${BENCH_SECONDS:-30}"

# P1: /health on the service and, as the ceiling, on a bare poem server with the same body
# (examples/bare_health.rs), each warmed up, one after the other.
scenario_p1() {
  main_server
  MAIN_LOADED=yes
  local bare_port=$((BENCH_PORT + 60)) bare_pid bare service
  "$ROOT/target/production/examples/bare_health" "$bare_port" &
  bare_pid=$!
  wait_healthy "http://127.0.0.1:$bare_port"
  run_wrk 32 5s "" "http://127.0.0.1:$bare_port/health" >/dev/null
  bare=$(run_wrk 32 "${RUN_SECONDS}s" "" "http://127.0.0.1:$bare_port/health")
  kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true
  run_wrk 32 5s "" "$BASE/health" >/dev/null
  service=$(PROFILE_NAME=p1 run_wrk 32 "${RUN_SECONDS}s" "" "$BASE/health")
  record p1 "$service" "$bare"
}

scenario_p2() {
  main_server
  MAIN_LOADED=yes
  local pg
  pg=$(pgbench -n -c 32 -j 2 -T "$RUN_SECONDS" -f "$BENCH_DIR/pgbench_select1.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  run_wrk 32 5s "" "$BASE/health/db" >/dev/null
  record p2 "$(run_wrk 32 "${RUN_SECONDS}s" "" "$BASE/health/db")" "$pg"
}

scenario_p3() {
  main_server
  MAIN_LOADED=yes
  local auth="Authorization: Bearer $TOKEN" small big pg
  export DFID_FILE="$WORK/dfids-1k.txt"
  run_wrk 32 10s "$BENCH_DIR/dfid_paths.lua" "$BASE" "$auth" >/dev/null
  small=$(run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/dfid_paths.lua" "$BASE" "$auth")
  seed_100k
  export DFID_FILE="$WORK/dfids.txt"
  run_wrk 32 10s "$BENCH_DIR/dfid_paths.lua" "$BASE" "$auth" >/dev/null
  big=$(PROFILE_NAME=p3 run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/dfid_paths.lua" "$BASE" "$auth")
  pg=$(pgbench -n -c 32 -j 2 -T "$RUN_SECONDS" -D rows=100000 -f "$BENCH_DIR/pgbench_select.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  record p3 "$small" "$big" "$pg"
}

scenario_p6() {
  main_server
  MAIN_LOADED=yes
  local run pg
  run=$(PROFILE_NAME=p6 run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/create_local.lua" "$BASE" "Authorization: Bearer $TOKEN")
  pg=$(pgbench -n -c 32 -j 2 -T "$RUN_SECONDS" -D owner="'$OWNER'" -f "$BENCH_DIR/pgbench_insert.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  record p6 "$run" "$pg"
}

# A circuit with one enabled webhook (item_pushed) to the bench receiver; prints its id.
webhook_circuit() {
  local url="$1" retry="${2:-}" circuit
  circuit=$(api POST /api/circuits "{\"name\":\"Bench webhooks $RANDOM\"}" | jq -r .circuit_id)
  api PUT "/api/circuits/$circuit/post-actions" '{"enabled":true,"trigger_events":["item_pushed"]}' >/dev/null
  api POST "/api/circuits/$circuit/post-actions/webhooks" "{\"name\":\"bench\",\"url\":\"$url\"${retry:+,\"retry_config\":$retry}}" >/dev/null
  echo "$circuit"
}

# $1 new local items of the bench admin, made through the database; prints the file of their ids.
local_items() {
  local count="$1" tag="$2" file="$WORK/lids-$2.txt"
  psql "$MAIN_DB" -qAt -v ON_ERROR_STOP=1 >"$file" <<SQL
INSERT INTO local_items (local_id, owner_id, identifiers, enriched_data, created_at)
SELECT gen_random_uuid()::text, '$OWNER',
  jsonb_build_array(jsonb_build_object('namespace','generic','key','lote','value','$tag-' || n,'id_type','Contextual','scope','user','verified',false)),
  '{"kg":410}', now()
FROM generate_series(1, $count) AS n
RETURNING local_id;
SQL
  echo "$file"
}

# Waits until no delivery is pending or retrying (at most $1 seconds); prints the delivery count.
drain_deliveries() {
  local deadline=$((SECONDS + $1)) open
  while [ $SECONDS -lt $deadline ]; do
    open=$(psql "$MAIN_DB" -qAt -c "SELECT count(*) FROM webhook_deliveries WHERE status IN ('Pending','InProgress','Retrying')")
    [ "$open" = 0 ] && break
    sleep 0.5
  done
}

scenario_p7() {
  main_server
  MAIN_LOADED=yes
  local port=$((BENCH_PORT + 50)) record_file="$WORK/p7-received.jsonl" circuit run counts summary
  start_receiver "$port" "$record_file"
  circuit=$(webhook_circuit "http://127.0.0.1:$port/ok")
  export LID_FILE CIRCUIT_ID="$circuit"
  LID_FILE=$(local_items 150000 "p7-$RANDOM")
  run=$(PROFILE_NAME=p7 run_wrk 16 "${RUN_SECONDS}s" "$BENCH_DIR/push_local.lua" "$BASE" "Authorization: Bearer $TOKEN")
  drain_deliveries 300
  # Counted in the database: wrk does not count the requests still in flight when it stops.
  counts=$(psql "$MAIN_DB" -qAt -F' ' -c "SELECT
      (SELECT count(*) FROM circuit_items WHERE circuit_id = '$circuit'),
      (SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.webhook_id = d.webhook_id WHERE w.circuit_id = '$circuit')")
  summary=$(python3 "$BENCH_DIR/receiver.py" summary "$record_file")
  stop_receiver
  read -r pushed rows <<<"$counts"
  record p7 "$run" "$(jq -c --argjson pushed "$pushed" --argjson rows "$rows" '. + {pushed: $pushed, rows: $rows}' <<<"$summary")"
}
