#!/usr/bin/env python3
"""Turns one scenario's raw measurements (wrk summaries, probe results, counts) into result rows:
one JSON object per line with the target beside the measurement, the ceiling measured in the same
run, a verdict, and latency percentiles for the chart.

usage: rows.py <scenario> <argument>...   (see each function for its arguments)
"""
import json
import sys


def row(rid, scenario, measured, target, ok, ceiling="", latency=None, settings=""):
    return {"id": rid, "scenario": scenario, "measured": measured, "target": target,
            "ceiling": ceiling, "verdict": "pass" if ok else "MISS", "latency": latency or {},
            "settings": settings}


def percentiles(run):
    return {"p50": run["p50_ms"], "p90": run["p90_ms"], "p99": run["p99_ms"], "max": run["max_ms"]}


def errors(run, ok_status):
    return run["requests"] - run["statuses"].get(ok_status, 0) + run["socket_errors"]


def wrk_line(run, ok_status):
    return (f"{run['rps']:,.0f} req/s; p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms, "
            f"max {run['max_ms']:.0f} ms; errors {errors(run, ok_status)}")


def p1(run, bare):
    run, bare = json.loads(run), json.loads(bare)
    ratio = run["rps"] / bare["rps"]
    ok = ratio >= 0.9 and run["p99_ms"] <= 5 and errors(run, "200") == 0
    return [row("P1", "GET /health, 32 conns", wrk_line(run, "200"),
                ">= 0.9 x a bare poem server with the same body, p99 <= 5 ms, 0 errors", ok,
                f"bare poem server: {bare['rps']:,.0f} req/s (x{ratio:.2f}); wrk shares the 2 cores",
                percentiles(run))]


def p2(run, pg_select1):
    run, pg = json.loads(run), float(pg_select1)
    ok = run["rps"] >= 5000 and run["p99_ms"] <= 10 and errors(run, "200") == 0
    return [row("P2", "GET /health/db, 32 conns", wrk_line(run, "200"), ">= 5,000 req/s, p99 <= 10 ms",
                ok, f"pgbench SELECT 1: {pg:,.0f} tps (x{run['rps'] / pg:.2f})", percentiles(run))]


def p3(small, big, pg_select):
    small, big, pg = json.loads(small), json.loads(big), float(pg_select)
    ratio = big["p50_ms"] / small["p50_ms"] if small["p50_ms"] else 0
    ok = big["rps"] >= 5000 and big["p99_ms"] <= 20 and errors(big, "200") == 0
    return [
        row("P3", "GET /api/items/{dfid} with a JWT, 32 conns, 100k items", wrk_line(big, "200"),
            ">= 5,000 req/s, p99 <= 20 ms", ok,
            f"pgbench indexed SELECT: {pg:,.0f} tps (x{big['rps'] / pg:.2f})", percentiles(big)),
        row("P3b", "GET item p50, 100k vs 1k items", f"{big['p50_ms']:.2f} ms vs {small['p50_ms']:.2f} ms (x{ratio:.2f})",
            "within 1.5x", ratio <= 1.5),
    ]


def p4(run, hash_ms, cores):
    run, hash_ms, cores = json.loads(run), float(hash_ms), int(cores)
    ceiling = cores * 1000 / hash_ms
    errs = errors(run, "200")
    ok = run["rps"] >= 0.9 * ceiling and errs == 0 and run["max_ms"] <= 3000
    return [row("P4", "login, 10 concurrent clients, 60 s",
                f"{run['rps']:.1f} logins/s (x{run['rps'] / ceiling:.2f} of ceiling); p99 {run['p99_ms']:.0f} ms, "
                f"max {run['max_ms']:.0f} ms; errors {errs}",
                "0 errors; >= 0.9 x ceiling; none over 3 s", ok,
                f"{cores} cores / {hash_ms:.2f} ms per argon2id verification = {ceiling:.1f}/s",
                percentiles(run), "RATE_LIMIT_PUBLIC_PER_MINUTE=0, LOGIN_MAX_FAILURES=0")]


def p5(run, probes, idle_kb=None, storm_kb=None, settled_kb=None):
    run, probes = json.loads(run), json.loads(probes)
    shed = run["statuses"].get("503", 0)
    other = run["requests"] - run["statuses"].get("200", 0) - shed + run["socket_errors"]
    rows = [row("P5", "freeze test: 50 concurrent logins, 60 s",
                f"{run['statuses'].get('200', 0)} ok, {shed} shed with 503; other errors {other}; max {run['max_ms']:.0f} ms",
                "excess logins get a fast 503 + Retry-After, none waits over 5 s",
                other == 0 and run["max_ms"] <= 5000, latency=percentiles(run),
                settings="RATE_LIMIT_PUBLIC_PER_MINUTE=0, LOGIN_MAX_FAILURES=0")]
    for path, probe in probes.items():
        rows.append(row(f"P5 {path}", f"freeze probe {path} at 20 req/s during P5",
                        f"p50 {probe['p50_ms']:.1f} ms, p99 {probe['p99_ms']:.1f} ms, errors {probe['errors']}",
                        "p99 <= 20 ms, 0 errors", probe["p99_ms"] <= 20 and probe["errors"] == 0,
                        latency={"p50": probe["p50_ms"], "p99": probe["p99_ms"], "max": probe["max_ms"]}))
    if settled_kb:
        idle, storm, settled = (int(kb) / 1024 for kb in (idle_kb, storm_kb, settled_kb))
        rows.append(row("P8 storm", "RSS of the login server: before / right after / 10 s after P5's login storm",
                        f"{idle:.1f} MB before, {storm:.1f} MB right after (argon2 memory of each hashing "
                        f"thread held), {settled:.1f} MB 10 s after",
                        "<= 60 MB after the login storm", settled <= 60))
    return rows


def p6(run, pg_insert):
    run, pg = json.loads(run), float(pg_insert)
    ok = run["rps"] >= 0.5 * pg and run["p99_ms"] <= 50 and errors(run, "201") == 0
    return [row("P6", "POST /api/items/local, 32 conns", wrk_line(run, "201"),
                ">= 0.5 x pgbench INSERT; p99 <= 50 ms", ok,
                f"pgbench single-row INSERT: {pg:,.0f} tps (x{run['rps'] / pg:.2f})", percentiles(run))]


def i1(times, pg_insert):
    times, pg = json.loads(times), float(pg_insert)
    best = min(float(t) for t in times)
    rate = 10_000 / best
    spread = ", ".join(f"{float(t):.2f}" for t in times)
    return [row("I1", "POST /api/items/local/import, 10,000 CSV rows", f"{best:.2f} s ({rate:,.0f} rows/s); runs {spread} s",
                ">= the single-row INSERT rate in rows/s", rate >= pg,
                f"pgbench single-row INSERT: {pg:,.0f} tps (x{rate / pg:.2f})")]


def p11(times, events, pg_insert, trace):
    times, events, pg, trace = json.loads(times), int(events), float(pg_insert), json.loads(trace)
    ordered = sorted(float(t) for t in times)
    median = ordered[len(ordered) // 2]
    rate = events / median
    spread = ", ".join(f"{float(t):.2f}" for t in times)
    return [
        row("P11a", f"EPCIS capture, {events:,} TransformationEvents per document (each mints its output item)",
            f"{rate:,.0f} events/s (median of {len(times)} documents: {median:.2f} s); runs {spread} s",
            ">= 0.5 x the single-row INSERT rate in events/s", rate >= 0.5 * pg,
            f"pgbench single-row INSERT: {pg:,.0f} tps (x{rate / pg:.2f})"),
        row("P11b", "GET /api/items/{dfid}/trace?direction=backward, 10 hops, 32 conns", wrk_line(trace, "200"),
            "p99 <= 50 ms, 0 errors", trace["p99_ms"] <= 50 and errors(trace, "200") == 0,
            latency=percentiles(trace)),
    ]


def p12(run, page_bytes, pg_select):
    run, size, pg = json.loads(run), int(page_bytes), float(pg_select)
    ok = run["p99_ms"] <= 20 and errors(run, "200") == 0
    return [
        row("P12", "GET /p/{circuit}/items/{dfid} (public item page, 3 events), 32 conns", wrk_line(run, "200"),
            "p99 <= 20 ms, 0 errors", ok, f"pgbench indexed SELECT: {pg:,.0f} tps (x{run['rps'] / pg:.2f})",
            percentiles(run)),
        row("P12b", "item page weight: page, CSS, script, QR code, proof bundle, log key", f"{size / 1024:.1f} KB",
            "< 100 KB", size < 100 * 1024),
    ]


# Rows one pushed new item writes: the item, its identifier and canonical name, two events and
# their log entries, the local item's mapping, the operation, the circuit entry, two triggers,
# the activity, the first version with its log entry, and the version number on the item.
PUSH_ROWS_PER_ITEM = 16


def i2(times, pg_insert):
    times, pg = json.loads(times), float(pg_insert)
    best = min(float(t) for t in times)
    rate = 1_000 / best
    rows_rate = rate * PUSH_ROWS_PER_ITEM
    spread = ", ".join(f"{float(t):.2f}" for t in times)
    return [row("I2", "POST /api/circuits/{id}/push-local/batch, 1,000 new local items",
                f"{best:.2f} s ({rate:,.0f} items/s, {rows_rate:,.0f} rows written/s); runs {spread} s",
                f">= the single-row INSERT rate in rows written/s ({PUSH_ROWS_PER_ITEM} per item)", rows_rate >= pg,
                f"pgbench single-row INSERT: {pg:,.0f} tps (x{rows_rate / pg:.2f} in rows, x{rate / pg:.2f} in items)")]


def s1(user, circuit, admin):
    rows = []
    for rid, name, run in (("S1a", "GET /api/users/me/stats", user), ("S1b", "GET /api/circuits/{id}/stats", circuit),
                           ("S1c", "GET /api/admin/stats", admin)):
        run = json.loads(run)
        ok = run["p99_ms"] < 20 and errors(run, "200") == 0
        rows.append(row(rid, f"{name}, 4 conns, 100k items and events", wrk_line(run, "200"), "p99 < 20 ms", ok,
                        "", percentiles(run)))
    return rows


def p7(run, deliveries):
    run, deliveries = json.loads(run), json.loads(deliveries)
    pushes = deliveries["pushed"]
    exact = deliveries["rows"] == pushes and deliveries["received_unique"] == pushes and deliveries["duplicates"] == 0
    return [
        row("P7", "push-local with one enabled webhook, 16 conns", wrk_line(run, "201"),
            ">= 800 req/s, p99 <= 50 ms",
            run["rps"] >= 800 and run["p99_ms"] <= 50 and errors(run, "201") == 0, latency=percentiles(run)),
        row("P7b", "P7 deliveries",
            f"{pushes} items pushed -> {deliveries['rows']} delivery rows, {deliveries['received_unique']} received "
            f"({deliveries['duplicates']} duplicates); delivery lag p50 {deliveries['lag_p50_ms']:.0f} ms, "
            f"p99 {deliveries['lag_p99_ms']:.0f} ms",
            "exactly one delivery per push", exact,
            latency={"p50": deliveries["lag_p50_ms"], "p99": deliveries["lag_p99_ms"]}),
    ]


def p10(writes, lag, proof_100k, proof_1m, single_1m, size, rates):
    writes, lag = json.loads(writes), json.loads(lag)
    proof_100k, proof_1m, single_1m = json.loads(proof_100k), json.loads(proof_1m), json.loads(single_1m)
    rate_100k, rate_1m = (int(r) for r in rates.split(","))
    if not lag["entries"]:  # no write was logged: the row says so instead of failing
        lag.update(p50_ms=float("inf"), p99_ms=float("inf"), max_ms=float("inf"))
    return [
        row("P10", "log integration lag while 32 conns POST /api/events (each one logged)",
            f"{lag['entries']:,} events; lag p50 {lag['p50_ms']:.0f} ms, p99 {lag['p99_ms']:.0f} ms, "
            f"max {lag['max_ms']:.0f} ms; writes: {wrk_line(writes, '201')}",
            "integration lag p99 <= 1 s", lag["p99_ms"] <= 1000 and errors(writes, "201") == 0,
            latency={"p50": lag["p50_ms"], "p99": lag["p99_ms"], "max": lag["max_ms"]},
            settings="LOG_INTEGRATE_MS=500 (default)"),
        row("P10b", "GET /log/proof/inclusion, random leaf, 32 conns, 100k entries", wrk_line(proof_100k, "200"),
            "-", errors(proof_100k, "200") == 0, f"sequencer integrated {rate_100k:,} entries/s",
            percentiles(proof_100k)),
        row("P10c", f"GET /log/proof/inclusion, random leaf, 32 conns, {int(size):,} entries",
            wrk_line(proof_1m, "200"), "-", errors(proof_1m, "200") == 0,
            f"sequencer integrated {rate_1m:,} entries/s", percentiles(proof_1m)),
        row("P10d", f"GET /log/proof/inclusion, random leaf, 1 conn, {int(size):,} entries",
            wrk_line(single_1m, "200"), "an inclusion proof at 1M entries in <= 5 ms (p99)",
            single_1m["p99_ms"] <= 5 and errors(single_1m, "200") == 0 and int(size) >= 1_000_000,
            "", percentiles(single_1m)),
    ]


def p8(idle_kb, loaded_kb):
    idle, loaded = int(idle_kb) / 1024, int(loaded_kb) / 1024
    return [row("P8", "RSS of the main bench server: idle / after the load run on it",
                f"{idle:.1f} MB idle, {loaded:.1f} MB after load",
                "<= 40 MB idle, <= 150 MB after load", idle <= 40 and loaded <= 150)]


def soak(soak):
    soak = json.loads(soak)
    first, last = soak["rss_kb"][0] / 1024, soak["rss_kb"][-1] / 1024
    growth = (last - first) / first if first else 0
    p99s = ", ".join(f"{m['p99_ms']:.0f}" for m in soak["minutes"])
    errs = sum(m["errors"] for m in soak["minutes"])
    rps = sum(m["rps"] for m in soak["minutes"]) / len(soak["minutes"])
    return [row("P8 soak", f"soak: mixed workload, {len(soak['minutes'])} minutes",
                f"RSS {first:.1f} MB at minute 1, {last:.1f} MB at minute {len(soak['minutes'])} "
                f"({growth * 100:+.1f} %); {rps:,.0f} req/s; errors {errs}; p99 per minute (ms): {p99s}",
                "no RSS growth beyond 10 %, 0 errors", growth <= 0.10 and errs == 0,
                latency={"p99": max(m["p99_ms"] for m in soak["minutes"])}, settings=soak["mix"])]


def p9(times_ms):
    times = sorted(float(t) for t in times_ms.split(","))
    return [row("P9", "start to first /health 200, migrated database",
                f"median {times[len(times) // 2]:.0f} ms, max {times[-1]:.0f} ms over {len(times)} starts",
                "<= 1 s", times[-1] <= 1000)]


def outage(series_file, down, back_begin, back):
    """Splits each probe's samples into before / during / after an outage (wall-clock seconds):
    during = started after the dependency was down and answered before it was being restarted
    (a request that waited for the pool across the restart may rightly succeed)."""
    with open(series_file) as f:
        series = json.load(f)
    down, back_begin, back = float(down), float(back_begin), float(back)
    phases = {}
    for path, samples in series.items():
        during = [s for s in samples if down <= s[0] and s[0] + s[2] / 1000 <= back_begin]
        after = [s for s in samples if s[0] >= back]
        phases[path] = {"all": samples, "during": during, "after": after}
    return phases, back


def recovery_seconds(after, back, healthy):
    """Seconds from `back` to the first sample after which every sample is healthy."""
    for i, sample in enumerate(after):
        if all(healthy(s) for s in after[i:]):
            return sample[0] - back
    return float("inf")


def r1(series_file, down, back_begin, back, item_path, acquire_timeout_ms):
    phases, back = outage(series_file, down, back_begin, back)
    health = phases["/health"]["all"]
    health_errors = sum(1 for s in health if s[1] != 200)
    probes_503 = {p: phases[p]["during"] for p in ("/health/db", "/health/ready")}
    probe_ok = all(s[1] == 503 and s[2] <= 1000 for d in probes_503.values() for s in d)
    probe_max = max((s[2] for d in probes_503.values() for s in d), default=0)
    item = phases[item_path]["during"]
    item_ok = all(s[1] == 503 and s[2] <= float(acquire_timeout_ms) + 250 for s in item)
    item_max = max((s[2] for s in item), default=0)
    recovered = max(recovery_seconds(phases[p]["after"], back, lambda s: s[1] == 200)
                    for p in ("/health/db", "/health/ready", item_path))
    ok = health_errors == 0 and probe_ok and item_ok and recovered <= 5 and item
    return [row("R1", "PostgreSQL stopped for 10 s under probes at 20 req/s",
                f"/health errors {health_errors}; /health/db and /health/ready during the outage: "
                f"{sum(len(d) for d in probes_503.values())} answers, all 503: {probe_ok}, max {probe_max:.0f} ms; "
                f"GET item: {len(item)} answers, all 503: {all(s[1] == 503 for s in item)}, max {item_max:.0f} ms; "
                f"recovered {recovered:.1f} s after PostgreSQL was back, no restart",
                "/health 200; probes 503 within 1 s; routes 503 within the pool timeout "
                f"({acquire_timeout_ms} ms); recovery within 5 s", ok)]


def r2(series_file, down, back_begin, back, item_path):
    phases, back = outage(series_file, down, back_begin, back)
    item_errors = sum(1 for s in phases[item_path]["all"] if s[1] != 200)
    item_p99 = sorted(s[2] for s in phases[item_path]["during"])[-1] if phases[item_path]["during"] else 0
    during = phases["/health/ready"]["during"]
    reported = sum(1 for s in during if s[3] == "degraded")
    recovered = recovery_seconds(phases["/health/ready"]["after"], back, lambda s: s[3] == "ready")
    ok = item_errors == 0 and during and reported == len(during) and recovered <= 5
    return [row("R2", "Redis stopped for 10 s under probes at 20 req/s",
                f"GET item errors {item_errors} (max {item_p99:.0f} ms during the outage); /health/ready said "
                f"`degraded` in {reported} of {len(during)} answers during the outage; `ready` again "
                f"{recovered:.1f} s after Redis was back",
                "requests keep working; /health/ready reports the outage; recovery when Redis returns", ok)]


def r3(report):
    r = json.loads(report)
    ok = (r["lost"] == 0 and r["flaky_delivered"] == r["pushes"] and r["failing_failed"] == r["pushes"]
          and r["push_p99_ms"] <= 50 and r["duplicates"] == 0)
    return [row("R3", "webhook receiver down 3 s, then 500 / 3 s stall / 200 per delivery; service restarted mid-retries",
                f"{r['pushes']} pushes (p99 {r['push_p99_ms']:.0f} ms): flaky hook {r['flaky_delivered']} Delivered "
                f"after {r['flaky_attempts']} attempts; always-500 hook {r['failing_failed']} Failed; "
                f"lost {r['lost']}; duplicate receipts {r['duplicates']}; all settled in {r['settle_s']:.0f} s",
                "retries with backoff, never blocking the push; each ends Delivered or Failed; nothing lost "
                "across a restart", ok)]


def r4(report):
    r = json.loads(report)
    # Each replica counts locally and tells Redis in batches: up to one batch per replica over.
    batch = r.get("batch", 0)
    revocation = r.get("revocation") or {}
    revoked_ok = not revocation or (revocation["missed"] == 0 and revocation["max_ms"] <= 100)
    ok = (r["limit"] <= r["limited_ok"] <= r["limit"] + 2 * batch
          and r["limited_ok"] + r["limited_429"] == r["limit_requests"] and revoked_ok
          and r["rows"] == r["pushes"] and r["received"] == r["pushes"] and r["duplicates"] == 0
          and r["socket_ms"] is not None and r["socket_ms"] <= 1000 and r["load_errors"] == 0)
    revoked = (f"a logout on A refused on B after p50 {revocation['p50_ms']:.1f} ms, max {revocation['max_ms']:.1f} ms "
               f"({revocation['runs']} tries, {revocation['missed']} missed); " if revocation else "")
    return [row("R4", "two replicas on one PostgreSQL + Redis",
                f"rate limit {r['limit']}/h (RATE_LIMIT_BATCH={batch}): {r['limited_ok']} ok + {r['limited_429']} 429 of "
                f"{r['limit_requests']} requests alternated across replicas; {revoked}{r['pushes']} pushes alternated -> {r['rows']} deliveries, "
                f"{r['received']} received, {r['duplicates']} duplicates; notification made on A reached a socket on "
                f"B in {r['socket_ms']} ms; GET item on both at once: {r['load_rps']:,.0f} req/s, errors {r['load_errors']}",
                "limits shared (over by at most one batch per replica), revocations reach the other replica within "
                "100 ms, each delivery sent once, notifications reach sockets on both", ok)]


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    for item in globals()[kind](*args):
        print(json.dumps(item))


if __name__ == "__main__":
    main()
