#!/usr/bin/env python3
"""Hits URLs at a fixed rate while a load runs; prints latency percentiles and errors as JSON.

usage: probe.py <seconds> <rate per url> <url>[|Header: value] ...
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def probe(url, headers, rate, seconds, out):
    parsed = urllib.parse.urlparse(url)
    latencies, errors, statuses = [], 0, {}
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
        began = time.monotonic()
        try:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            conn.request("GET", parsed.path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status != 200:
                errors += 1
        except Exception:  # a refused or timed-out probe is an error
            errors += 1
        latencies.append((time.monotonic() - began) * 1000)
        n += 1
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None
    out[parsed.path] = {"count": len(latencies), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                        "max_ms": latencies[-1] if latencies else None, "errors": errors, "statuses": statuses}


def main():
    seconds, rate = float(sys.argv[1]), float(sys.argv[2])
    out, threads = {}, []
    for spec in sys.argv[3:]:
        url, *header = spec.split("|", 1)
        headers = dict([header[0].split(": ", 1)]) if header else {}
        thread = threading.Thread(target=probe, args=(url, headers, rate, seconds, out))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
