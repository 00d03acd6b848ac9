#!/usr/bin/env python3
"""Writes the P11 world as EPCIS documents: CHAINS transformation chains of HOPS hops, one
document per hop with one TransformationEvent per chain (item h-1 of the chain in, item h out),
so the documents together name CHAINS x (HOPS + 1) items.

usage: epcis_chains.py <directory> <chains> <hops>   (writes hop-1.jsonld ... hop-<hops>.jsonld)
"""
import json
import os
import sys

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def epc(chain, hop):
    return f"https://id.gs1.org/01/07891234123459/21/C{chain}H{hop}"


def main():
    directory, chains, hops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(directory, exist_ok=True)
    for hop in range(1, hops + 1):
        events = [{
            "type": "TransformationEvent",
            "eventTime": f"2026-12-01T{hop:02d}:{chain % 60:02d}:{chain // 60 % 60:02d}Z",
            "eventTimeZoneOffset": "-03:00",
            "inputEPCList": [epc(chain, hop - 1)],
            "outputEPCList": [epc(chain, hop)],
            "bizStep": "commissioning",
        } for chain in range(chains)]
        document = {"@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
                    "creationDate": "2026-12-01T00:00:00Z", "epcisBody": {"eventList": events}}
        with open(os.path.join(directory, f"hop-{hop}.jsonld"), "w", encoding="utf-8") as out:
            json.dump(document, out)


main()
