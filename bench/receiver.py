#!/usr/bin/env python3
"""A webhook receiver for the bench. Records every request as a JSON line (delivery id, attempt
number, arrival time, the payload's occurred_at, the status it answered). The path decides how
it answers:

  /ok     200
  /fail   500, always
  /flaky  per delivery: 500 on the first attempt, a 3 s stall on the second (longer than the
          WEBHOOK_TIMEOUT_MS the drill sets, so the sender gives up; recorded as status 0), 200
          from the third on

usage: receiver.py <port> <record file>
"""
import datetime
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ATTEMPTS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        arrived = time.time()
        delivery = self.headers.get("X-DeFarm-Delivery", "")
        with LOCK:
            attempt = ATTEMPTS[delivery] = ATTEMPTS.get(delivery, 0) + 1
        status = 200
        if self.path == "/fail":
            status = 500
        elif self.path == "/flaky":
            if attempt == 1:
                status = 500
            elif attempt == 2:
                time.sleep(3)
                status = 0
        occurred = None
        try:
            occurred = json.loads(body).get("occurred_at")
        except ValueError:
            pass
        with LOCK, open(sys.argv[2], "a") as out:
            out.write(json.dumps({"delivery": delivery, "attempt": attempt, "path": self.path, "at": arrived,
                                  "occurred_at": occurred, "status": status}) + "\n")
        self.send_response(status or 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_PATCH = do_POST

    def log_message(self, *args):
        pass


def lag_summary(record_file):
    """Delivery lag (arrival of the first 2xx minus the payload's occurred_at) and duplicates."""
    first_ok, duplicates = {}, 0
    with open(record_file) as f:
        for line in f:
            r = json.loads(line)
            if r["status"] != 200 or not r["delivery"]:
                continue
            if r["delivery"] in first_ok:
                duplicates += 1
                continue
            occurred = datetime.datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00")).timestamp()
            first_ok[r["delivery"]] = (r["at"] - occurred) * 1000
    lags = sorted(first_ok.values())
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else 0
    return {"received_unique": len(lags), "duplicates": duplicates, "lag_p50_ms": pick(0.5), "lag_p99_ms": pick(0.99)}


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        print(json.dumps(lag_summary(sys.argv[2])))
    else:
        ThreadingHTTPServer.daemon_threads = True
        ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
