#!/usr/bin/env bash
# The spec's users, against a debug build on a fresh database (PostgreSQL and Redis when
# TEST_DATABASE_URL / TEST_REDIS_URL are set, SQLite otherwise):
# 1. a Python client generated from openapi/openapi.json (openapi-python-client) runs a journey;
# 2. schemathesis fuzzes every operation in two passes, one with an API key and one with a
#    session, with the ids of real records (a circuit, an item, an event, a webhook, a role, a
#    stored CID) so it gets past the 404s. It fails on a 5xx, a response that does not match the
#    spec, an undocumented status, or a request slower than 10 s. FUZZ_EXAMPLES sets the examples
#    per operation (default 25);
# 3. Go's own sumdb/note and sumdb/tlog (scripts/goverify) check the log the two passes wrote and
#    the seeded item's proof bundle, and reject a bundle with one digest changed. Skipped, with a
#    notice, where Go or golang.org/x/mod is missing (.ci/run installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-target}/debug/defarm"
PORT="${FUZZ_PORT:-3901}"
BASE="http://127.0.0.1:$PORT"
EXAMPLES="${FUZZ_EXAMPLES:-25}"
PASSWORD='Fuzz-passw0rd!'
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[spec] $*" >&2; }

command -v st >/dev/null && command -v openapi-python-client >/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check schemathesis openapi-python-client
cargo build --quiet --bin defarm

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  psql "$TEST_DATABASE_URL" -qAt -c "DROP DATABASE IF EXISTS defarm_fuzz WITH (FORCE)" -c "CREATE DATABASE defarm_fuzz" >/dev/null
  export DATABASE_URL="${TEST_DATABASE_URL%/*}/defarm_fuzz"
else
  export DATABASE_URL="sqlite://$WORK/fuzz.db?mode=rwc"
fi
[ -n "${TEST_REDIS_URL:-}" ] && export REDIS_URL="$TEST_REDIS_URL" REDIS_KEY_PREFIX="fuzz-$$:"
export DATA_DIR="$WORK" PORT HOST=127.0.0.1 RUST_LOG=warn RATE_LIMIT_PUBLIC_PER_MINUTE=0 LOGIN_MAX_FAILURES=0 \
  JWT_SECRET="$(head -c 32 /dev/urandom | base64)" SECRETS_KEY="$(head -c 32 /dev/urandom | base64)" \
  WEBHOOK_ALLOW_PRIVATE=true WEBHOOK_TIMEOUT_MS=1000 DEFARM_NEW_USER_PASSWORD="$PASSWORD" \
  LOG_SIGNING_KEY="$("$BIN" log keygen | sed -n 1p)"
log "database: ${DATABASE_URL%%\?*}"

# The fuzzing account lifts tier limits and holds admin; a second account is the target of the
# admin routes, so the fuzzer cannot suspend or downgrade the account it runs as.
"$BIN" admin create-user --username fuzzer --email fuzzer@example.com --admin --tier Admin >/dev/null
"$BIN" admin create-user --username target --email target@example.com >/dev/null
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -fsS "$BASE/health" >/dev/null 2>&1 && break; sleep 0.1; done

log "generated client journey"
openapi-python-client generate --path openapi/openapi.json --meta none --config scripts/clients/python-client.yaml \
  --output-path "$WORK/defarm_client" >"$WORK/generate.log" 2>&1 ||
  { cat "$WORK/generate.log" >&2; exit 1; }
if grep -qi "warning\|unable to" "$WORK/generate.log"; then
  log "the spec does not generate a whole client:"; cat "$WORK/generate.log" >&2; exit 1
fi
PYTHONPATH="$WORK" python3 scripts/client_journey.py "$BASE"

call() { # method path [body] -> response body; fails on a non-2xx
  curl -fsS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"} "$BASE$2"
}
TOKEN=$(curl -fsS -H 'content-type: application/json' -d "{\"username\":\"fuzzer\",\"password\":\"$PASSWORD\"}" \
  "$BASE/api/auth/login" | jq -r .token)
target_token=$(curl -fsS -H 'content-type: application/json' -d "{\"username\":\"target\",\"password\":\"$PASSWORD\"}" \
  "$BASE/api/auth/login" | jq -r .token)
export FUZZ_TARGET_USER=$(curl -fsS -H "Authorization: Bearer $target_token" "$BASE/api/users/me" | jq -r .user_id)
export FUZZ_CIRCUIT=$(call POST /api/circuits '{"name":"Fuzz circuit","description":"seeded"}' | jq -r .circuit_id)
call PUT "/api/circuits/$FUZZ_CIRCUIT/adapter" '{"adapter_type":"local"}' >/dev/null
export FUZZ_LOCAL=$(call POST /api/items/local '{"identifiers":[{"key":"cpf","value":"11144477735"}],"enriched_data":{"kg":410}}' | jq -r .local_id)
export FUZZ_DFID=$(call POST "/api/circuits/$FUZZ_CIRCUIT/push-local" "{\"local_id\":\"$FUZZ_LOCAL\"}" | jq -r .dfid)
export FUZZ_EVENT=$(call POST /api/events "{\"dfid\":\"$FUZZ_DFID\",\"event_type\":\"Weighed\",\"visibility\":\"Public\",\"metadata\":{\"kg\":412}}" | jq -r .event_id)
curl -fsS -H "Authorization: Bearer $TOKEN" -H 'content-type: text/plain' --data-binary 'lab result: negative' \
  "$BASE/api/receipts?dfid=$FUZZ_DFID&label=lab" >/dev/null
export FUZZ_WEBHOOK=$(call POST "/api/circuits/$FUZZ_CIRCUIT/post-actions/webhooks" \
  '{"name":"fuzz","url":"http://127.0.0.1:9/hook"}' | jq -r .webhook_id)
export FUZZ_ROLE=$(call POST "/api/circuits/$FUZZ_CIRCUIT/roles" '{"role_name":"Auditor","permissions":["Pull"]}' | jq -r .role_id)
for _ in $(seq 50); do # the storage worker stores the pushed item's document shortly after the push
  FUZZ_CID=$(call GET "/api/items/$FUZZ_DFID" | jq -r .latest_cid)
  [ "$FUZZ_CID" != null ] && break
  sleep 0.1
done
export FUZZ_CID
key=$(call POST /api/api-keys '{"name":"fuzz","permissions":{"read":true,"write":true,"admin":true}}')
export FUZZ_KEY_ID=$(jq -r .id <<<"$key")
api_key=$(jq -r .key <<<"$key")
for value in FUZZ_TARGET_USER FUZZ_CIRCUIT FUZZ_DFID FUZZ_EVENT FUZZ_WEBHOOK FUZZ_ROLE FUZZ_CID FUZZ_KEY_ID; do
  [ -n "${!value}" ] && [ "${!value}" != null ] || { log "seeding failed: $value is empty"; cat "$WORK/server.log" >&2; exit 1; }
done

fuzz() { # name, then extra st arguments
  local name="$1"; shift
  log "pass: $name"
  st --config-file scripts/schemathesis.toml run openapi/openapi.json --url "$BASE" \
    --max-examples "$EXAMPLES" --workers 1 --seed 20261127 "$@"
}
# The key pass runs first: the session pass may revoke the key (DELETE /api/api-keys/{id}).
status=0
fuzz "API key" -H "X-API-Key: $api_key" || status=1
# Logging out would end the session the rest of the pass runs on.
fuzz "session" -H "Authorization: Bearer $TOKEN" \
  --exclude-path /api/auth/logout --exclude-path /api/auth/logout-all || status=1
GOPATH_X_MOD=/usr/share/gocode
if command -v go >/dev/null && [ -d "$GOPATH_X_MOD/src/golang.org/x/mod/sumdb" ]; then
  log "Go's sumdb verifiers on the log and a proof bundle"
  GO111MODULE=off GOPATH="$GOPATH_X_MOD" GOCACHE="$WORK/gocache" go build -o "$WORK/goverify" ./scripts/goverify
  for _ in $(seq 50); do # the fuzzing's last facts integrate within LOG_INTEGRATE_MS
    call GET "/api/items/$FUZZ_DFID/proof" >"$WORK/bundle.json"
    [ "$(jq .pending "$WORK/bundle.json")" = 0 ] && break
    sleep 0.2
  done
  "$WORK/goverify" -url "$BASE" "$WORK/bundle.json" || status=1
  jq '.events[0].event.content_hash |= (if .[0:1] == "0" then "1" else "0" end) + .[1:]' \
    "$WORK/bundle.json" >"$WORK/tampered.json"
  if "$WORK/goverify" -url "$BASE" "$WORK/tampered.json" >/dev/null 2>&1; then
    log "goverify accepted a bundle whose first event digest was changed"; status=1
  fi
else
  log "NOTICE: Go or golang.org/x/mod is missing: the sumdb check did not run"
fi
if grep -q "panicked" "$WORK/server.log"; then log "the server panicked:"; grep -A5 panicked "$WORK/server.log" >&2; status=1; fi
exit "$status"
