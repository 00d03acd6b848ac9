"""Every event of an EPCIS document the service served (an EPCISDocument export or an
EPCISQueryDocument) must hash, by the reference implementation of the CBV 2.0 event hash, to the
eventID the service gave it. Usage: epcis_export_rehash.py FILE..."""
import json
import sys

from epcis_event_hash_generator import hash_generator, json_to_py

failed = False
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    body = document["epcisBody"]
    if "queryResults" in body:
        # The reference reads EPCISDocuments: the query's events under the same @context.
        document = {**document, "epcisBody": {"eventList": body["queryResults"]["resultsBody"]["eventList"]}}
    events = document["epcisBody"]["eventList"]
    hashes = hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(document))
    if len(hashes) != len(events):
        sys.exit(f"{path}: the reference hashed {len(hashes)} of {len(events)} events")
    for index, (event, hashed) in enumerate(zip(events, hashes)):
        if event["eventID"] != hashed:
            print(f"DIFFERENT: {path} event {index}: eventID {event['eventID']}, reference {hashed}")
            failed = True
    print(f"{path}: {len(events)} eventIDs equal the reference implementation's hashes")
sys.exit(1 if failed else 0)
