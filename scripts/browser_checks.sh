#!/usr/bin/env bash
# Browser checks of the public pages (WEB.md): the given defarm binary serves a fresh SQLite
# database on loopback; tests/browser/pages.js seeds it through the API and drives Debian's
# chromium with playwright-core (nothing downloads a browser), with axe-core on every page.
# Screenshots and the server's log stay under target/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$(realpath "${1:?usage: scripts/browser_checks.sh path/to/defarm}")"
out="$PWD/target/browser"

if [ ! -x /usr/bin/chromium ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null
fi
node_dir="$out/node"
if ! cmp -s tests/browser/package.json "$node_dir/package.json"; then
  mkdir -p "$node_dir"
  cp tests/browser/package.json "$node_dir/"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund)
fi

run="$out/run"
rm -rf "$run" && mkdir -p "$run/shots"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# Public routes are limited per client IP, and every request here comes from 127.0.0.1.
env -i PATH="$PATH" HOME="$run" DATA_DIR="$run" DATABASE_URL="sqlite://$run/defarm.db?mode=rwc" \
  HOST=127.0.0.1 PORT="$port" PUBLIC_BASE_URL="$base" RATE_LIMIT_PUBLIC_PER_MINUTE=0 \
  LOG_INTEGRATE_MS=100 "$binary" serve >"$run/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/health" >/dev/null || { echo "the server did not start:"; cut -c1-300 "$run/server.log" | tail -20; exit 1; }

NODE_PATH="$node_dir/node_modules" timeout 600 node tests/browser/pages.js "$base" "$run/shots" "$binary" "$run/defarm.db"
