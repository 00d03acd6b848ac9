#!/usr/bin/env bash
# The bench: bench/run.sh [scenario...] runs the named scenarios (default: all of them, about 35
# minutes) against a release build on PostgreSQL and Redis on loopback (installed and started
# when missing), then prints one table and writes it to bench/results/<date>-<commit>.md with a
# latency chart, and the latest row per scenario to bench/RESULTS.md.
#
# Scenarios (targets in ../shared/design/QUALITY.md): p1 p2 p3 p6 p7 (throughput, main server),
# i1 i2 s1 (bulk import, batch push, dashboards), p10 (transparency log), p11 (EPCIS capture and
# trace), p12 (public item page), p8 (memory), p4 p5 (login, own server), p9 (start time), r1 r2 r3 r4 (fault drills), soak.
# BENCH_SECONDS (30), LOGIN_SECONDS (60) and SOAK_MINUTES (10) shorten the runs. BENCH_PROFILE=1
# also records the server with perf during P1, P3, P6 and P7 and writes flame graphs
# (bench/results/flame-<commit>-<scenario>.svg; needs linux-perf and inferno). BENCH_BIN runs
# another build unbuilt (an older commit's release binary, for a before/after comparison; name it
# with BENCH_COMMIT, and give BENCH_LOG_KEY any value when it predates `defarm log keygen`).
source "$(dirname "$0")/lib.sh"
for part in throughput bulk log epcis pages login runtime faults; do source "$BENCH_DIR/scenarios/$part.sh"; done

ALL=(p1 p2 p3 p6 p7 i1 i2 s1 p10 p11 p12 p8 p4 p5 p9 r1 r2 r3 r4 soak)
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL[@]}")
for scenario in "${SCENARIOS[@]}"; do
  declare -F "scenario_$scenario" >/dev/null || { echo "unknown scenario: $scenario (known: ${ALL[*]})" >&2; exit 2; }
done

MAIN_DB=""
MAIN_IDLE_RSS=""
MAIN_LOADED=no
TOKEN=""
OWNER=""
# The main bench server: a fresh database with 1,000 seeded items on first use in this run,
# restarted on the same database when another scenario stopped it. The throughput scenarios set
# MAIN_LOADED so P8 knows the server it measures has carried load.
main_server() {
  [ -n "$MAIN_DB" ] && [ "$SERVER_DB" = "$MAIN_DB" ] && return 0
  local fresh=no
  if [ -z "$MAIN_DB" ]; then MAIN_DB=$(fresh_database defarm_bench_main); fresh=yes; fi
  start_server "$MAIN_DB"
  # Idle: past the 5 s after which hashing threads give back the argon2 memory of the
  # bootstrap administrator's password hash.
  sleep 6
  MAIN_IDLE_RSS=$(rss_kb "$SERVER_PID")
  MAIN_LOADED=no
  TOKEN=$(login_token "$ADMIN_USER" "$ADMIN_PASSWORD")
  OWNER=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/users/me" | jq -r .user_id)
  if [ "$fresh" = yes ]; then
    : >"$WORK/dfids.txt"
    python3 "$BENCH_DIR/seed_items.py" "$MAIN_DB" "$OWNER" 1 1000 "$WORK/dfids.txt"
    cp "$WORK/dfids.txt" "$WORK/dfids-1k.txt"
  fi
}

# Grows the main database to 100,000 seeded items (once).
seed_100k() {
  [ "$(wc -l <"$WORK/dfids.txt")" -ge 100000 ] && return 0
  log "seeding to 100,000 items"
  python3 "$BENCH_DIR/seed_items.py" "$MAIN_DB" "$OWNER" 1001 99000 "$WORK/dfids.txt"
}

machine() {
  local cpu
  cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
  echo "$(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)," \
    "PostgreSQL $(psql "$TEST_DATABASE_URL" -qAt -c 'SHOW server_version'), Redis $(redis-server --version | awk '{print $3}' | tr -d 'v=')"
}

ensure_tools
build_binaries
start_services
ROWS="$WORK/rows.jsonl"
: >"$ROWS"
rm -f "$WORK"/server-*.log
trap 'stop_server; stop_receiver; stop_replica' EXIT
commit=$(git -C "$ROOT" rev-parse --short HEAD)
[ -z "$(git -C "$ROOT" status --porcelain -- src migration Cargo.toml Cargo.lock)" ] || commit="$commit-dirty"
commit="${BENCH_COMMIT:-$commit}" # names the build BENCH_BIN runs
for scenario in "${SCENARIOS[@]}"; do
  log "== $scenario"
  "scenario_$scenario"
done
python3 "$BENCH_DIR/report.py" "$ROWS" "$commit" "$(machine)"
