# I1 (a 10,000-row spreadsheet import), I2 (1,000 local items pushed in one request) and S1 (the three dashboards at 100k items), issue 17's
# rows, on the main bench server (sourced by run.sh).

scenario_i1() {
  main_server
  MAIN_LOADED=yes
  local csv="$WORK/import-10k.csv" times=() pg
  python3 - "$csv" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("rfid,namespace,lote,peso,raca\n")
    for i in range(10_000):
        out.write(f"9820001{i:08d},bovino,L-{i // 100},{300 + i % 200},Nelore\n")
PY
  for round in 1 2 3; do
    times+=("$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
      -H 'content-type: text/csv' --data-binary "@$csv" "$BASE/api/items/local/import")")
    log "import $round: ${times[-1]} s"
  done
  pg=$(pgbench -n -c 32 -j 2 -T 10 -D owner="'$OWNER'" -f "$BENCH_DIR/pgbench_insert.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  record i1 "$(printf '%s\n' "${times[@]}" | jq -s -c .)" "$pg"
}

# Three rounds of 1,000 new local items, each round pushed to a circuit in one request.
scenario_i2() {
  main_server
  MAIN_LOADED=yes
  local auth="Authorization: Bearer $TOKEN" circuit items pushes times=() pg
  circuit=$(api POST /api/circuits '{"name":"Bench batch push"}' | jq -r .circuit_id)
  for round in 1 2 3; do
    items=$(python3 -c 'import json, sys; r = sys.argv[1]; print(json.dumps({"items": [
        {"identifiers": [{"key": "rfid", "value": f"98210{r}{i:09d}"}]} for i in range(1000)]}))' "$round")
    pushes=$(curl -fsS -H "$auth" -H 'content-type: application/json' -d "$items" "$BASE/api/items/local/batch" |
      jq -c '{items: [.items[] | {local_id}]}')
    times+=("$(curl -fsS -o /dev/null -w '%{time_total}' -H "$auth" -H 'content-type: application/json' \
      -d "$pushes" "$BASE/api/circuits/$circuit/push-local/batch")")
    log "push-local batch $round: ${times[-1]} s"
  done
  pg=$(pgbench -n -c 32 -j 2 -T 10 -D owner="'$OWNER'" -f "$BENCH_DIR/pgbench_insert.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  record i2 "$(printf '%s\n' "${times[@]}" | jq -s -c .)" "$pg"
}

# The main server's 100,000 items in one circuit, each with one event in the last 30 days.
stats_world() {
  seed_100k
  STATS_CIRCUIT=$(api POST /api/circuits '{"name":"Bench dashboards"}' | jq -r .circuit_id)
  psql "$MAIN_DB" -qAt -v ON_ERROR_STOP=1 <<SQL
INSERT INTO circuit_items (circuit_id, dfid, pushed_by, pushed_at)
SELECT '$STATS_CIRCUIT', dfid, '$OWNER', now() FROM items;
INSERT INTO events (event_id, dfid, event_type, visibility, source, metadata, occurred_at, recorded_at, content_hash)
SELECT gen_random_uuid()::text, dfid, (ARRAY['weighing','vaccination','movement'])[1 + n % 3], 'CircuitOnly', '$OWNER',
  '{}', now() - (n % 30) * interval '1 day', now(), md5(dfid || 'bench-stats')
FROM (SELECT dfid, row_number() OVER () AS n FROM items) AS numbered;
ANALYZE;
SQL
}

scenario_s1() {
  main_server
  MAIN_LOADED=yes
  stats_world
  local auth="Authorization: Bearer $TOKEN" user circuit admin route
  # Each view's first answer counts (hundreds of ms at this size: see READING.md for the counts
  # measured uncached); the rows measure the steady state, stale counts served while recounted.
  for route in users/me/stats "circuits/$STATS_CIRCUIT/stats" admin/stats; do
    run_wrk 4 3s "" "$BASE/api/$route" "$auth" >/dev/null
  done
  user=$(run_wrk 4 "${RUN_SECONDS}s" "" "$BASE/api/users/me/stats" "$auth")
  circuit=$(run_wrk 4 "${RUN_SECONDS}s" "" "$BASE/api/circuits/$STATS_CIRCUIT/stats" "$auth")
  admin=$(run_wrk 4 "${RUN_SECONDS}s" "" "$BASE/api/admin/stats" "$auth")
  record s1 "$user" "$circuit" "$admin"
}
