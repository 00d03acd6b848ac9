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


def items(p3_small, p3, p6, pg_select, pg_insert):
    small, big, p6 = json.loads(p3_small), json.loads(p3), json.loads(p6)
    pg_select, pg_insert = float(pg_select), float(pg_insert)
    errors = lambda run, ok: run["requests"] - run["statuses"].get(ok, 0) + run["socket_errors"]
    ratio = big["p50_ms"] / small["p50_ms"] if small["p50_ms"] else 0
    return [
        ("P3 GET item, 32 conns, 100k rows",
         f"{big['rps']:.0f} req/s (pgbench indexed SELECT {pg_select:.0f} tps, ratio {big['rps'] / pg_select:.2f}); "
         f"p50 {big['p50_ms']:.2f} ms, p99 {big['p99_ms']:.2f} ms; errors {errors(big, '200')}",
         ">= 5,000 req/s, p99 <= 20 ms",
         "pass" if big["rps"] >= 5000 and big["p99_ms"] <= 20 and errors(big, "200") == 0 else "MISS"),
        ("P3 p50 at 100k vs 1k rows", f"{big['p50_ms']:.2f} ms vs {small['p50_ms']:.2f} ms (x{ratio:.2f})",
         "within 1.5x", "pass" if ratio <= 1.5 else "MISS"),
        ("P6 POST local item, 32 conns",
         f"{p6['rps']:.0f} req/s (pgbench INSERT {pg_insert:.0f} tps, ratio {p6['rps'] / pg_insert:.2f}); "
         f"p99 {p6['p99_ms']:.2f} ms; errors {errors(p6, '201')}",
         ">= 0.5 x pgbench INSERT, p99 <= 50 ms",
         "pass" if p6["rps"] >= 0.5 * pg_insert and p6["p99_ms"] <= 50 and errors(p6, "201") == 0 else "MISS"),
    ]


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    rows = {"login": login, "items": items}[kind](*args)
    print("| scenario | measured | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
