# P12 (WEB.md): the public item page a buyer opens from a QR code, on the main bench server
# (sourced by run.sh): p99 at 32 connections, and what one page view downloads in all.

scenario_p12() {
  main_server
  MAIN_LOADED=yes
  local circuit items=50 dfids="$WORK/page-dfids.txt" local_id dfid bytes run pg path
  circuit=$(api POST /api/circuits '{"name":"Bench pages","permissions":{"allow_public_visibility":true}}' | jq -r .circuit_id)
  : >"$dfids"
  for n in $(seq 1 "$items"); do
    local_id=$(api POST /api/items/local "{\"identifiers\":[{\"key\":\"lote\",\"value\":\"PAGE-$n\"}]}" | jq -r .local_id)
    dfid=$(api POST "/api/circuits/$circuit/push-local" "{\"local_id\":\"$local_id\"}" | jq -r .dfid)
    for step in colheita secagem torra; do
      api POST /api/events "{\"dfid\":\"$dfid\",\"event_type\":\"$step\",\"visibility\":\"Public\",\"metadata\":{\"fazenda\":\"Santa Rita\",\"lote\":$n}}" >/dev/null
    done
    echo "$dfid" >>"$dfids"
  done
  api PUT "/api/circuits/$circuit/public-settings" "$(jq -c -n --arg name 'Bench pages' --rawfile d "$dfids" \
    '{enabled: true, access_mode: "Public", public_name: $name, published_items: ($d | split("\n") | map(select(length > 0)))}')" >/dev/null
  wait_integrated 120 || true
  # One page view: the page, its stylesheet and script, the QR code, the proof bundle and the key.
  path="/p/$circuit/items/$(head -1 "$dfids")"
  bytes=0
  for part in "$path" /assets/site.css /assets/verify.js "$path/qr.svg" "$path/proof.json" /log/key; do
    bytes=$((bytes + $(curl -fsS -o /dev/null -w '%{size_download}' "$BASE$part")))
  done
  pg=$(pgbench -n -c 32 -j 2 -T 10 -D rows=1000 -f "$BENCH_DIR/pgbench_select.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  # Warmed up like the other read scenarios: the first seconds after a start open the rest of the
  # pool and fill each connection's statement cache (see READING.md, 2026-12-05).
  export DFID_FILE="$dfids" DFID_PATH="/p/$circuit/items/{dfid}"
  run_wrk 32 5s "$BENCH_DIR/dfid_paths.lua" "$BASE" >/dev/null
  run=$(run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/dfid_paths.lua" "$BASE")
  unset DFID_PATH
  record p12 "$run" "$bytes" "$pg"
}
