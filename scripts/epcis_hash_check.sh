#!/usr/bin/env bash
# Every event of every document under tests/epcis/ must hash to what the reference implementation
# of the CBV 2.0 event hash (epcis-event-hash-generator, PyPI) computes, pre-hash string included.
# Usage: scripts/epcis_hash_check.sh [path/to/defarm]
set -euo pipefail
cd "$(dirname "$0")/.."
defarm=${1:-target/debug/defarm}
python3 -m pip install --quiet --disable-pip-version-check 'epcis-event-hash-generator==1.9.3'
failed=0
checked=0
for document in tests/epcis/*.jsonld tests/epcis/hash-only/*.jsonld; do
  ours=$("$defarm" epcis-hash --prehash "$document")
  theirs=$(python3 scripts/epcis_reference_hash.py "$document")
  if [ "$ours" != "$theirs" ]; then
    echo "DIFFERENT: $document"
    diff <(echo "$ours") <(echo "$theirs") || true
    failed=1
  fi
  checked=$((checked + $(grep -c '^ni:' <<<"$ours")))
done
[ "$failed" = 0 ] || exit 1
echo "event hashes equal the reference implementation's for $checked events"
