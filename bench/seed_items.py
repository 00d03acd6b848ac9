#!/usr/bin/env python3
"""Seeds items in bulk through the database (COPY), owned by one user, with one canonical
identifier each, and writes their DFIDs to a file for the load scripts.

usage: seed_items.py <database url> <owner user id> <first sequence> <count> <dfid file>
"""
import io
import subprocess
import sys

DAY = "20250101"


def checksum(text):
    h = 0
    for byte in text.encode("ascii"):
        h = (h * 31 + byte) & 0xFFFFFFFF
    return format(h % 0xFFFF, "X")


def dfid(sequence):
    seq = f"{sequence:06d}"
    return f"DFID-{DAY}-{seq}-{checksum(DAY + seq)}"


def main():
    url, owner, first, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    items, identifiers, names = io.StringIO(), io.StringIO(), io.StringIO()
    dfids = []
    stamp = "2025-01-01 00:00:00+00"
    for sequence in range(first, first + count):
        d = dfid(sequence)
        dfids.append(d)
        identifier = f'[{{"namespace":"generic","key":"rfid","value":"RF{sequence:012d}","id_type":"Canonical","verified":false}}]'
        items.write(f'{d}\t{owner}\tActive\t{identifier}\t{{"seeded": true}}\t{stamp}\t{stamp}\t\\N\n')
        identifiers.write(f"id-{d}\t{d}\tgeneric\trfid\tRF{sequence:012d}\tCanonical\t\\N\tf\t{owner}\t{stamp}\n")
        names.write(f"rfid\tRF{sequence:012d}\t{d}\n")
    script = (
        "\\copy items (dfid, created_by, status, identifiers, enriched_data, created_at, updated_at, latest_cid) FROM STDIN\n"
        + items.getvalue() + "\\.\n"
        + "\\copy item_identifiers (id, dfid, namespace, key, value, id_type, scope, verified, added_by, created_at) FROM STDIN\n"
        + identifiers.getvalue() + "\\.\n"
        + "\\copy canonical_names (key, value, dfid) FROM STDIN\n"
        + names.getvalue() + "\\.\n"
        + "ANALYZE items; ANALYZE item_identifiers; ANALYZE canonical_names;\n"
    )
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], input=script, text=True, check=True)
    with open(out, "a") as f:
        f.write("\n".join(dfids) + "\n")


if __name__ == "__main__":
    main()
