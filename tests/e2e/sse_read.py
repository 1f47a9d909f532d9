"""Reads a Server-Sent Events stream for the e2e tests; one JSON line per
event on stdout ({"id", "event", "data"}), then {"end": why}, where why is
"closed" (the server ended the stream), "idle" (nothing for --idle seconds),
"count" (--max-events read) or "status N" (not a 200).

    sse_read.py URL KEY [--last-event-id N] [--max-events N] [--idle S]
                [--ready FILE]   (created once the response headers arrived)
"""
import argparse
import http.client
import json
import socket
import sys
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("key")
    ap.add_argument("--last-event-id")
    ap.add_argument("--max-events", type=int, default=0)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--ready")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=a.idle)
    headers = {"Authorization": "Bearer " + a.key, "Accept": "text/event-stream"}
    if a.last_event_id is not None:
        headers["Last-Event-ID"] = a.last_event_id
    conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
    resp = conn.getresponse()
    out = sys.stdout
    if resp.status != 200:
        out.write(json.dumps({"end": "status %d" % resp.status, "body": resp.read().decode()}) + "\n")
        return
    if a.ready:
        open(a.ready, "w").close()
    n = 0
    ev = {}
    why = "closed"
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.decode().rstrip("\n")
            if line == "":
                if "event" in ev or "data" in ev:
                    out.write(json.dumps(ev) + "\n")
                    out.flush()
                    n += 1
                    if a.max_events and n >= a.max_events:
                        why = "count"
                        break
                ev = {}
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                ev[field] = json.loads(value) if field == "data" else value
    except (socket.timeout, TimeoutError):
        why = "idle"
    out.write(json.dumps({"end": why}) + "\n")


if __name__ == "__main__":
    main()
