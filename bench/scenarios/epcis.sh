# P11 (EPCIS.md, QUALITY.md): capture throughput of 10,000-event documents, and backward traces
# over 10 hops with 100k+ items in lineage, on the main bench server (sourced by run.sh).

# Captures document $2 into circuit $1 and waits for its job to finish; prints the seconds from
# the request to the finished job.
capture_seconds() {
  local circuit="$1" file="$2" started location job
  started=$(date +%s.%N)
  location=$(curl -fsS -o /dev/null -w '%header{location}' -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: application/ld+json' --data-binary "@$file" "$BASE/api/circuits/$circuit/epcis/capture")
  for _ in $(seq 1 6000); do
    job=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE$location")
    [ "$(jq -r .running <<<"$job")" = false ] && break
    sleep 0.05
  done
  [ "$(jq -r .success <<<"$job")" = true ] || { log "capture of $file failed: $(jq -c "{errors: .errors[:3]}" <<<"$job")"; return 1; }
  python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.3f}")' "$started"
}

scenario_p11() {
  main_server
  MAIN_LOADED=yes
  local chains=10000 hops=10 circuit times=() pg run ends="$WORK/chain-ends.txt"
  python3 "$BENCH_DIR/epcis_chains.py" "$WORK/epcis" "$chains" "$hops"
  circuit=$(api POST /api/circuits '{"name":"Bench EPCIS"}' | jq -r .circuit_id)
  for hop in $(seq 1 "$hops"); do
    times+=("$(capture_seconds "$circuit" "$WORK/epcis/hop-$hop.jsonld")")
    log "capture of hop $hop ($chains events): ${times[-1]} s"
  done
  # The trace is measured on a settled service: the captures' log entries integrated first
  # (in the run that found it, the sequencer's backlog shared the CPU and the pool with it).
  wait_integrated 600 || true
  pg=$(pgbench -n -c 32 -j 2 -T 10 -D owner="'$OWNER'" -f "$BENCH_DIR/pgbench_insert.sql" "$MAIN_DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  psql "$MAIN_DB" -qAt -c "SELECT dfid FROM item_identifiers WHERE key = 'epc' AND value LIKE '%H$hops'" >"$ends"
  log "$(wc -l <"$ends") chain ends; $(psql "$MAIN_DB" -qAt -c 'SELECT count(*) FROM items') items"
  # Warmed up like the other read scenarios: each connection plans the recursive walk afresh
  # (about 3 ms) for its first five runs before PostgreSQL keeps a generic plan (READING.md,
  # 2026-12-05, P11b).
  export DFID_FILE="$ends" DFID_PATH="/api/items/{dfid}/trace?direction=backward"
  run_wrk 32 5s "$BENCH_DIR/dfid_paths.lua" "$BASE" "Authorization: Bearer $TOKEN" >/dev/null
  run=$(run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/dfid_paths.lua" "$BASE" "Authorization: Bearer $TOKEN")
  unset DFID_PATH
  record p11 "$(printf '%s\n' "${times[@]}" | jq -s -c .)" "$chains" "$pg" "$run"
}
