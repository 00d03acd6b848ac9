"""Prints each event's hash and pre-hash string as the reference implementation computes them,
in the format of `defarm epcis-hash --prehash`. Fails when the reference skips an event."""
import json
import sys

from epcis_event_hash_generator import hash_generator, json_to_py

with open(sys.argv[1], encoding="utf-8") as file:
    document = json.load(file)
expected = len(document["epcisBody"].get("eventList", [None]))
events = json_to_py.event_list_from_epcis_document_json(document)
pre_hashes = hash_generator.derive_prehashes_from_events(events)
if len(pre_hashes) != expected:
    sys.exit(f"{sys.argv[1]}: the reference hashed {len(pre_hashes)} of {expected} events")
for pre_hash, hashed in zip(pre_hashes, hash_generator.calculate_hashes_from_pre_hashes(pre_hashes)):
    print(hashed)
    print(pre_hash)
