#!/usr/bin/env python3
"""Measures how soon a logout on one replica reaches the other replica's copy of the session:
logs in on A, uses the token on B (so B holds its facts), logs out on A, then asks B every
millisecond until it refuses. Prints JSON with the milliseconds from the logout's answer to B's
first refusal, over `runs` tries (null when B still accepted after 5 s).

usage: revocation_probe.py <base A> <base B> <username> <password> [runs]
"""
import json
import statistics
import sys
import time
import urllib.error
import urllib.request


def call(method, url, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def one(a, b, username, password):
    status, body = call("POST", f"{a}/api/auth/login", body={"username": username, "password": password})
    assert status == 200, (status, body)
    token = json.loads(body)["token"]
    for _ in range(3):
        status, _ = call("GET", f"{b}/api/users/me", token)
        assert status == 200, status
    status, _ = call("POST", f"{a}/api/auth/logout", token, {})
    assert status == 204, status
    logged_out = time.monotonic()
    while time.monotonic() < logged_out + 5:
        if call("GET", f"{b}/api/users/me", token)[0] == 401:
            return (time.monotonic() - logged_out) * 1000
        time.sleep(0.001)
    return None


def main():
    a, b, username, password = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    times = [one(a, b, username, password) for _ in range(runs)]
    reached = sorted(t for t in times if t is not None)
    print(json.dumps({"runs": runs, "missed": runs - len(reached),
                      "p50_ms": statistics.median(reached) if reached else None,
                      "max_ms": reached[-1] if reached else None}))


if __name__ == "__main__":
    main()
