#!/usr/bin/env bash
# The spec's typed users, from the committed openapi/openapi.json, with the npm packages pinned
# in scripts/clients/package-lock.json:
# 1. redocly lint with its recommended rules: no error and no warning, except the ones listed
#    with their reason in scripts/clients/.redocly.lint-ignore.yaml;
# 2. openapi-typescript's types, and a strict-mode program written against them
#    (scripts/clients/journey.ts: a 200 body, a request body and the error `code`), compile;
# 3. orval's axios client compiles.
set -euo pipefail
cd "$(dirname "$0")/clients"
SPEC=../../openapi/openapi.json
log() { echo "[clients] $*" >&2; }

log "npm ci"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
rm -rf gen

log "redocly lint"
npx --no-install redocly lint "$SPEC" --config redocly.yaml --format=json >lint.json 2>lint.log ||
  { cat lint.log >&2; jq -r '.problems[] | "\(.severity) \(.ruleId): \(.message) at \(.location[0].pointer)"' lint.json >&2; exit 1; }
jq -e '.totals.errors == 0 and .totals.warnings == 0' lint.json >/dev/null ||
  { jq -r '.problems[] | "\(.severity) \(.ruleId): \(.message) at \(.location[0].pointer)"' lint.json >&2; exit 1; }
log "lint: $(jq -r '"\(.totals.errors) errors, \(.totals.warnings) warnings, \(.totals.ignored) explained"' lint.json)"

log "openapi-typescript, and a strict program using its types"
# Both generators print the lint findings explained above again; their output is shown on failure.
npx --no-install openapi-typescript "$SPEC" --output gen/openapi-typescript/defarm.ts >generate.log 2>&1 ||
  { cat generate.log >&2; exit 1; }
log "orval's axios client"
npx --no-install orval --config orval.config.cjs >generate.log 2>&1 || { cat generate.log >&2; exit 1; }
npx --no-install tsc -p tsconfig.json
log "both clients compile"
