#!/usr/bin/env python3
"""Hits URLs at a fixed rate while a load runs; prints latency percentiles and errors as JSON.

usage: probe.py [--series <file>] <seconds> <rate per url> <url>[|Header: value] ...
With --series, every sample (start time, status, latency in ms, the JSON body's `status` field)
is also written to <file> per path, for the fault drills.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def probe(url, headers, rate, seconds, out, series):
    parsed = urllib.parse.urlparse(url)
    latencies, errors, statuses, samples = [], 0, {}, []
    interval = 1.0 / rate
    start = time.monotonic()
    n = 0
    while True:
        due = start + n * interval
        now = time.monotonic()
        if due - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        began, wall = time.monotonic(), time.time()
        status, body_status = 0, None
        try:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            conn.request("GET", parsed.path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            status = response.status
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200:
                errors += 1
            if series is not None:
                try:
                    body_status = json.loads(body).get("status")
                except (ValueError, AttributeError):
                    pass
        except Exception:  # a refused or timed-out probe is an error
            errors += 1
        latencies.append((time.monotonic() - began) * 1000)
        samples.append((wall, status, latencies[-1], body_status))
        n += 1
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None
    out[parsed.path] = {"count": len(latencies), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                        "max_ms": latencies[-1] if latencies else None, "errors": errors, "statuses": statuses}
    if series is not None:
        series[parsed.path] = samples


def main():
    args, series_file = sys.argv[1:], None
    if args[0] == "--series":
        series_file, args = args[1], args[2:]
    seconds, rate = float(args[0]), float(args[1])
    out, threads, series = {}, [], ({} if series_file else None)
    for spec in args[2:]:
        url, *header = spec.split("|", 1)
        headers = dict([header[0].split(": ", 1)]) if header else {}
        thread = threading.Thread(target=probe, args=(url, headers, rate, seconds, out, series))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    if series_file:
        with open(series_file, "w") as f:
            json.dump(series, f)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
