#!/usr/bin/env python3
"""Connection floods against a running multinoded, while an authenticated
client measures how long its requests take (tests/e2e/test_edge_flood.sh).

  edge_flood.py PORT KEY PHASE SECONDS

PHASE:
  same    1,100 idle connections and 200 slowloris ones (one header byte a
          second), all from 127.0.0.1 like the client; closed ones reopened.
  spread  the same from 40 other loopback addresses (127.0.0.2 ...), so that
          no address passes the per-client limit and the server's own limit
          has to make room.
  slow    200 slowloris connections from 10 addresses (under every limit):
          only the request deadline closes them; reports when.

Prints one JSON object: the client's latencies (ms), failures, and what
happened to the attacking connections. Traffic goes to 127.0.0.1 only;
everything is bounded by SECONDS (plus a few seconds to connect and close).
"""
import http.client
import json
import resource
import selectors
import socket
import sys
import threading
import time

PORT, KEY, PHASE, SECONDS = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
HOST = "127.0.0.1"
REOPEN_PER_SECOND = 400  # bounded churn: at most this many new attacking connections a second

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

if PHASE == "same":
    plan = [("idle", "127.0.0.1")] * 1100 + [("slow", "127.0.0.1")] * 200
elif PHASE == "spread":
    addrs = ["127.0.0.%d" % (2 + i) for i in range(40)]
    plan = [("idle", addrs[i % 40]) for i in range(1100)] + \
           [("slow", addrs[i % 40]) for i in range(200)]
elif PHASE == "slow":
    addrs = ["127.0.0.%d" % (2 + i) for i in range(10)]
    plan = [("slow", addrs[i % 10]) for i in range(200)]
else:
    sys.exit("unknown phase " + PHASE)

REOPEN = PHASE != "slow"
SLOW_PREFIX = b"GET /projects HTTP/1.1\r\nHost: x\r\nX-Trickle: "


class Attacker:
    def __init__(self, kind, addr):
        self.kind, self.addr = kind, addr
        self.sock = None
        self.opened = 0.0
        self.sent = 0


stats = {"opened": 0, "closed_by_server": 0, "connect_failed": 0,
         "slow_close_ages": [], "open_samples": []}
sel = selectors.DefaultSelector()
attackers = [Attacker(k, a) for k, a in plan]


def open_one(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((a.addr, 0))
    s.setblocking(False)
    try:
        s.connect((HOST, PORT))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        stats["connect_failed"] += 1
        return False
    a.sock, a.opened, a.sent = s, time.monotonic(), 0
    sel.register(s, selectors.EVENT_READ, a)
    stats["opened"] += 1
    return True


def close_one(a, by_server):
    sel.unregister(a.sock)
    a.sock.close()
    a.sock = None
    if by_server:
        stats["closed_by_server"] += 1
        if a.kind == "slow":
            stats["slow_close_ages"].append(round(time.monotonic() - a.opened, 3))


# the client: a fresh connection for each request, and one kept alive
latencies, failures = [], []
stop = threading.Event()


def client():
    kept = http.client.HTTPConnection(HOST, PORT, timeout=5)
    i = 0
    while not stop.is_set():
        fresh = i % 2 == 0
        conn = http.client.HTTPConnection(HOST, PORT, timeout=5) if fresh else kept
        t0 = time.monotonic()
        try:
            conn.request("GET", "/projects", headers={"Authorization": "Bearer " + KEY})
            resp = conn.getresponse()
            body = resp.read()
            ms = (time.monotonic() - t0) * 1000
            if resp.status != 200 or b"projects" not in body:
                failures.append("%s: %d %r" % ("fresh" if fresh else "kept", resp.status, body[:80]))
            latencies.append(ms)
        except Exception as e:  # a refused or reset request is a failure, not a slow one
            failures.append("%s: %r after %.0f ms" % ("fresh" if fresh else "kept", e,
                                                      (time.monotonic() - t0) * 1000))
            if not fresh:
                kept = http.client.HTTPConnection(HOST, PORT, timeout=5)
        if fresh:
            conn.close()
        i += 1
        stop.wait(0.05)


# open the flood (bounded: every planned connection once), then start measuring
t_start = time.monotonic()
for a in attackers:
    open_one(a)
thread = threading.Thread(target=client)
thread.start()

deadline = time.monotonic() + SECONDS
next_trickle = time.monotonic() + 1.0
budget, budget_at = 0.0, time.monotonic()
while time.monotonic() < deadline:
    for key, _ in sel.select(timeout=0.05):
        a = key.data
        try:
            data = a.sock.recv(4096)
        except (ConnectionResetError, OSError):
            data = b""
        if not data:
            close_one(a, by_server=True)
    now = time.monotonic()
    if now >= next_trickle:  # one byte a second on every slowloris connection
        next_trickle += 1.0
        for a in attackers:
            if a.kind == "slow" and a.sock is not None:
                chunk = SLOW_PREFIX if a.sent == 0 else b"a"
                try:
                    a.sock.send(chunk)
                    a.sent += 1
                except OSError:
                    pass
        stats["open_samples"].append(sum(1 for a in attackers if a.sock is not None))
    if REOPEN:
        budget = min(budget + (now - budget_at) * REOPEN_PER_SECOND, REOPEN_PER_SECOND)
        budget_at = now
        for a in attackers:
            if budget < 1:
                break
            if a.sock is None:
                open_one(a)
                budget -= 1

stop.set()
thread.join(10)
for a in attackers:
    if a.sock is not None:
        close_one(a, by_server=False)

lat = sorted(latencies)


def pct(p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p))], 2) if lat else None


ages = sorted(stats["slow_close_ages"])
print(json.dumps({
    "phase": PHASE,
    "requests": len(lat) + len(failures),
    "failures": failures[:10],
    "n_failures": len(failures),
    "latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": round(lat[-1], 2) if lat else None},
    "attack": {
        "opened": stats["opened"],
        "closed_by_server": stats["closed_by_server"],
        "connect_failed": stats["connect_failed"],
        "open_min": min(stats["open_samples"]) if stats["open_samples"] else None,
        "open_max": max(stats["open_samples"]) if stats["open_samples"] else None,
        "slow_closed": len(ages),
        "slow_close_age_s": {"min": ages[0] if ages else None,
                             "max": ages[-1] if ages else None},
    },
}))
