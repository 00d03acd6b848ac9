#!/usr/bin/env python3
"""Connects a notification socket to one replica, then makes a change through another that
notifies the socket's user; prints the milliseconds until the notification arrived (or null).

usage: socket_probe.py <ws url> <session token> <trigger url> <trigger token> <json body>
"""
import json
import sys
import time
import urllib.request

from websockets.sync.client import connect


def main():
    ws_url, token, trigger_url, trigger_token, body = sys.argv[1:6]
    with connect(f"{ws_url}?token={token}", open_timeout=5) as socket:
        while json.loads(socket.recv(timeout=5)).get("type") != "unread_count":
            pass
        request = urllib.request.Request(trigger_url, data=body.encode(), method="PUT", headers={
            "Authorization": f"Bearer {trigger_token}", "Content-Type": "application/json"})
        started = time.monotonic()
        urllib.request.urlopen(request, timeout=5).read()
        deadline = started + 5
        while time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("type") == "notification":
                print(round((time.monotonic() - started) * 1000))
                return
    print("null")


if __name__ == "__main__":
    main()
