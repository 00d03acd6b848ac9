# P10: the transparency log (sourced by run.sh). Integration lag while 32 connections write
# logged facts (events), then inclusion-proof latency with the log grown to 100k and 1M entries.
# P6 and P7 with and without the log: run them on this build and on one from before the log
# (BENCH_BIN=<that binary> bench/run.sh p6 p7).

# Waits until no entry is pending (at most $1 seconds).
wait_integrated() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(psql "$MAIN_DB" -qAt -c 'SELECT count(*) FROM log_entries WHERE leaf_index IS NULL')" = 0 ] && return 0
    sleep 0.5
  done
  log "entries still pending after $1 s"; return 1
}

# Grows the log to $1 entries with entries written straight into the table (random commitments,
# as the service writes them), waits for the sequencer; prints its integration rate (entries/s).
grow_log() {
  local want="$1" have start
  have=$(psql "$MAIN_DB" -qAt -c 'SELECT count(*) FROM log_entries')
  [ "$have" -ge "$want" ] && { echo 0; return 0; }
  log "growing the log from $have to $want entries"
  start=$(date +%s.%N)
  # In slices of 100k, so the sequencer starts on the first while the rest are written.
  for ((from = have; from < want; from += 100000)); do
    psql "$MAIN_DB" -qAt -v ON_ERROR_STOP=1 -c "INSERT INTO log_entries (kind, fact_id, salt, commitment, logged_at_ms)
      SELECT 1, 'bench-' || n, substring(sha256(('salt' || n || random())::bytea) FROM 1 FOR 16),
        sha256(('fact' || n || random())::bytea), (extract(epoch FROM now()) * 1000)::bigint
      FROM generate_series($from + 1, least($from + 100000, $want)) AS n" >/dev/null
  done
  wait_integrated 1800
  python3 -c "import sys; print(f'{($want - $have) / (float(sys.argv[2]) - float(sys.argv[1])):.0f}')" "$start" "$(date +%s.%N)"
}

# Integration lag percentiles (ms) of the entries logged since $1 (Unix ms): from the fact's
# commit to the first signed checkpoint that includes it.
integration_lag() {
  psql "$MAIN_DB" -qAt -c "SELECT json_build_object(
      'entries', count(*),
      'p50_ms', percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
      'p99_ms', percentile_cont(0.99) WITHIN GROUP (ORDER BY lag),
      'max_ms', max(lag))
    FROM (SELECT (SELECT extract(epoch FROM c.signed_at) * 1000 FROM log_checkpoints c
                  WHERE c.tree_size > e.leaf_index ORDER BY c.tree_size LIMIT 1) - e.logged_at_ms AS lag
          FROM log_entries e WHERE e.logged_at_ms >= $1 AND e.kind = 1 AND e.fact_id NOT LIKE 'bench-%') AS lags"
}

scenario_p10() {
  main_server
  MAIN_LOADED=yes
  local since writes lag rate100k proof100k rate1m proof1m single1m size
  export DFID_FILE="$WORK/dfids-1k.txt"
  since=$(date +%s%3N)
  writes=$(run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/post_event.lua" "$BASE" "Authorization: Bearer $TOKEN")
  wait_integrated 60
  lag=$(integration_lag "$since")

  rate100k=$(grow_log 100000)
  size=$(curl -fsS "$BASE/log/checkpoint" | sed -n 2p)
  export TREE_SIZE="$size"
  run_wrk 32 5s "$BENCH_DIR/inclusion_proof.lua" "$BASE" >/dev/null
  proof100k=$(run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/inclusion_proof.lua" "$BASE")

  rate1m=$(grow_log 1000000)
  size=$(curl -fsS "$BASE/log/checkpoint" | sed -n 2p)
  export TREE_SIZE="$size"
  run_wrk 32 5s "$BENCH_DIR/inclusion_proof.lua" "$BASE" >/dev/null
  proof1m=$(run_wrk 32 "${RUN_SECONDS}s" "$BENCH_DIR/inclusion_proof.lua" "$BASE")
  # One connection: what one proof costs, without 32 requests queueing for two cores.
  single1m=$(run_wrk 1 "${RUN_SECONDS}s" "$BENCH_DIR/inclusion_proof.lua" "$BASE")
  unset TREE_SIZE
  record p10 "$writes" "$lag" "$proof100k" "$proof1m" "$single1m" "$size" "$rate100k,$rate1m"
}
