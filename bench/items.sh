#!/usr/bin/env bash
# P3 and P6: GET /api/items/{dfid} with a JWT at 32 connections over 1k and then 100k seeded
# items, and POST /api/items/local at 32 connections, each beside pgbench running a comparable
# indexed SELECT / single-row INSERT on the same database in the same run.
# ITEMS_SECONDS shortens the runs (default 30).
source "$(dirname "$0")/lib.sh"
RUN="${ITEMS_SECONDS:-30}s"

ensure_tools
build_release
start_services
trap stop_server EXIT
url=$(fresh_database defarm_bench_items)
start_server "$url"
token=$(login_token "$ADMIN_USER" "$ADMIN_PASSWORD")
owner=$(curl -fsS -H "authorization: Bearer $token" "$BASE/api/users/me" | jq -r .user_id)
auth="Authorization: Bearer $token"
dfids="$WORK/dfids.txt"
: >"$dfids"

log "seeding 1,000 items"
python3 "$BENCH_DIR/seed_items.py" "$url" "$owner" 1 1000 "$dfids"
export DFID_FILE="$dfids"
run_wrk 32 10s "$BENCH_DIR/get_item.lua" "$BASE" "$auth" >/dev/null   # warm-up
p3_small=$(run_wrk 32 "$RUN" "$BENCH_DIR/get_item.lua" "$BASE" "$auth")

log "seeding to 100,000 items"
python3 "$BENCH_DIR/seed_items.py" "$url" "$owner" 1001 99000 "$dfids"
run_wrk 32 10s "$BENCH_DIR/get_item.lua" "$BASE" "$auth" >/dev/null
p3=$(run_wrk 32 "$RUN" "$BENCH_DIR/get_item.lua" "$BASE" "$auth")

log "P6: POST /api/items/local"
p6=$(run_wrk 32 "$RUN" "$BENCH_DIR/create_local.lua" "$BASE" "$auth")

log "pgbench ceilings on the same database"
pg_select=$(pgbench -n -c 32 -j 2 -T "${RUN%s}" -D rows=100000 -f "$BENCH_DIR/pgbench_select.sql" "$url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
pg_insert=$(pgbench -n -c 32 -j 2 -T "${RUN%s}" -D owner="'$owner'" -f "$BENCH_DIR/pgbench_insert.sql" "$url" 2>/dev/null | awk '/^tps/ {print $3; exit}')

echo "P3_SMALL_JSON $p3_small"
echo "P3_JSON $p3"
echo "P6_JSON $p6"
echo "PGBENCH select_tps=$pg_select insert_tps=$pg_insert"
python3 "$BENCH_DIR/table.py" items "$p3_small" "$p3" "$p6" "$pg_select" "$pg_insert"
