#!/usr/bin/env python3
"""Formats bench results as a markdown table with each target beside the measurement."""
import json
import sys


def login(p4, p5, probes, hash_ms, cores):
    p4, p5, probes = json.loads(p4), json.loads(p5), json.loads(probes)
    hash_ms, cores = float(hash_ms), int(cores)
    ceiling = cores * 1000 / hash_ms
    ok4 = p4["statuses"].get("200", 0)
    errors4 = p4["requests"] - ok4 + p4["socket_errors"]
    rows = [
        ("P4 login, 10 clients", f"{p4['rps']:.1f} logins/s ({p4['rps'] / ceiling:.2f} x ceiling {ceiling:.1f}); "
         f"p50 {p4['p50_ms']:.0f} ms, p99 {p4['p99_ms']:.0f} ms, max {p4['max_ms']:.0f} ms; errors {errors4}",
         ">= 0.9 x ceiling, 0 errors, none over 3 s",
         "pass" if p4["rps"] >= 0.9 * ceiling and errors4 == 0 and p4["max_ms"] <= 3000 else "MISS"),
    ]
    shed = p5["statuses"].get("503", 0)
    other5 = p5["requests"] - p5["statuses"].get("200", 0) - shed + p5["socket_errors"]
    rows.append(("P5 login overload, 50 clients",
                 f"{p5['statuses'].get('200', 0)} ok, {shed} shed with 503; other errors {other5}; max {p5['max_ms']:.0f} ms",
                 "excess answered 503 + Retry-After, none over 5 s",
                 "pass" if other5 == 0 and p5["max_ms"] <= 5000 else "MISS"))
    for path, probe in probes.items():
        rows.append((f"P5 probe {path} @20/s", f"p50 {probe['p50_ms']:.1f} ms, p99 {probe['p99_ms']:.1f} ms, "
                     f"max {probe['max_ms']:.1f} ms, errors {probe['errors']}",
                     "p99 <= 20 ms, 0 errors",
                     "pass" if probe["p99_ms"] <= 20 and probe["errors"] == 0 else "MISS"))
    return rows


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    rows = {"login": login}[kind](*args)
    print("| scenario | measured | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
