#!/usr/bin/env bash
# What an idle event stream costs the daemon (docs/events.md, "Cost and
# limits"), and the request head that its connection memory still allows,
# at the default server.connection_memory_kib (10) and at its smallest (4):
# 200 idle streams cost at most MAX_KIB of daemon RSS each (measured 11 KiB
# at 10 KiB, 6 KiB at 4; 24 KiB at libmicrohttpd's default of 32 KiB), a
# request head of 8 KiB in 23 headers (3 KiB in 11 at 4) is served while a
# larger one gets 431. Under AddressSanitizer (its redzones and quarantine)
# the bounds are 32 and 24 KiB: measured 22-23 KiB at 10, 40.5 KiB with the
# old settings.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
PY=${MULTINODE_PYTHON:-/usr/bin/python3}
ASAN=0
# grep reads all of it: with -q, ldd may die of SIGPIPE and pipefail hides the match
if ldd "$MN_BIN_DIR/multinoded" | grep libasan >/dev/null; then ASAN=1; fi

# measure POOL_KIB MAX_KIB OK_HEAD OK_HEADERS BAD_HEAD
measure() {
daemon_config "sm$1"
sed -i "s/^  api_key: .*/&\n  max_event_streams: 300\n  connection_memory_kib: $1/; s/^log_level: .*/log_level: warn/" "$MN_WORK/sm$1.yaml"
daemon_start "sm$1"
if [ "$1" = 10 ]; then # the first run creates it in the data folder both use
  api PUT /projects/sm >/dev/null
  [ "$(last_status)" = 200 ] || fail "cannot create the project"
fi

$PY - "$MN_URL" "$MN_KEY" "${MN_PIDS[sm$1]}" "$2" "$3" "$4" "$5" <<'PYEOF' >"$MN_WORK/mem$1.out" 2>&1 || fail "connection_memory_kib $1: $(cat "$MN_WORK/mem$1.out")"
import http.client, socket, sys, time, urllib.parse
url, key, pid, max_kib = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ok_head, ok_headers, bad_head = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
u = urllib.parse.urlsplit(url)

def rss_kib():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def open_streams():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/metrics", headers={"Authorization": "Bearer " + key})
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith("multinode_event_streams_open "):
            return int(float(line.split()[1]))
    return -1

def wait_open(n):
    deadline = time.time() + 30
    while open_streams() != n:
        assert time.time() < deadline, "%d streams open, want %d" % (open_streams(), n)
        time.sleep(0.05)

req = ("GET /projects/sm/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
       "Accept: text/event-stream\r\n\r\n" % key).encode()
socks = []
def add(n):
    for _ in range(n):
        s = socket.create_connection((u.hostname, u.port))
        s.sendall(req)
        socks.append(s)
# the first 20 warm up what every stream shares (threads, the hub)
add(20)
wait_open(20)
time.sleep(0.5)
before = rss_kib()
add(200)
wait_open(220)
time.sleep(0.5)
after = rss_kib()
each = (after - before) / 200
print("200 idle streams: %.1f KiB each (RSS %d -> %d KiB); bound %.0f KiB" % (each, before, after, max_kib))
assert each <= max_kib, "an idle stream costs %.1f KiB, more than %.0f" % (each, max_kib)
# every one got its response head
for s in socks[:5]:
    s.settimeout(10)
    head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 200 ") and b"text/event-stream" in head, head[:200]
for s in socks:
    s.close()

def head_status(size, n_headers):
    base = "GET /projects/sm HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % key
    per = (size - len(base) - 40) // n_headers
    lines = ["X-Pad-%02d: " % i for i in range(n_headers)]
    lines = [l + "a" * (per - len(l) - 2) + "\r\n" for l in lines]
    text = base + "".join(lines)
    text += "X-Fill: " + "b" * (size - len(text) - 12) + "\r\n\r\n"
    assert len(text) == size, (len(text), size)
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(text.encode())
    s.settimeout(10)
    got = b""
    while b"\r\n" not in got:
        b = s.recv(4096)
        if not b:
            break
        got += b
    s.close()
    return got.split(b"\r\n")[0].decode()

st = head_status(ok_head, ok_headers)
assert st.startswith("HTTP/1.1 200 "), "a request head of %d bytes in %d headers: %r" % (ok_head, ok_headers, st)
st = head_status(bad_head, 1)
assert st.startswith("HTTP/1.1 431 "), "a request head of %d bytes: %r" % (bad_head, st)
print("a request head of %d bytes in %d headers served; %d bytes: 431" % (ok_head, ok_headers + 3, bad_head))
PYEOF
pass "connection_memory_kib $1: $(head -1 "$MN_WORK/mem$1.out")"
pass "connection_memory_kib $1: $(tail -1 "$MN_WORK/mem$1.out")"
daemon_kill "sm$1"
}

measure 10 $((ASAN ? 32 : 16)) 8192 20 40960
measure 4 $((ASAN ? 24 : 8)) 3072 8 5120
