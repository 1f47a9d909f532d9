#!/usr/bin/env bash
# Event streams under load (not a test; docs/events.md). Starts multinoded
# (embedded Postgres, local provider), opens N event streams (default 1,000):
# 20 on the project that runs and N - 20 on an idle project (each event is
# still matched against every stream; they get keep-alives), then runs
# invocations of a no-op function (`true`) at R per second (default 100) for
# S seconds while every stream reads. Prints the daemon's RSS with no streams, with N idle streams
# and at the end of the load, its CPU during the load, the invocations that
# ended, and the delay from a change (the invocation's last_update_time, set
# when it is created) to its first `invocation` event at a client, p50 and
# p99, measured on 20 of the streams, and how many `invocation` events each
# of those got per invocation created (4 for one that ran to its end).
# Usage: bench/events_bench.sh [BUILD_DIR] [STREAMS] [RATE] [SECONDS]
#        (MN_BENCH_SCHEDULER=0: no scheduler, the invocations only created)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
streams=${2:-1000}
rate=${3:-100}
secs=${4:-30}
ulimit -n 16384

work=$(mktemp -d /tmp/mn-bench.XXXXXX); chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=bench-key-events-0123
cat >"$work/multinode.yaml" <<YAML
server: { listen: 127.0.0.1:$port, api_key: $key, threads: 4 }
store: { postgres: { pool_size: 8 } }
data_dir: $work/data
log_level: warn
# MN_BENCH_SCHEDULER=0: invocations are created and never run (the API and
# the events alone)
scheduler: { enabled: $([ "${MN_BENCH_SCHEDULER:-1}" = 0 ] && echo false || echo true) }
YAML
"$build/bin/multinoded" --config "$work/multinode.yaml" 2>"$work/daemon.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
url=http://127.0.0.1:$port
for _ in $(seq 600); do curl -sf "$url/" >/dev/null && break; sleep 0.1; done
auth="Authorization: Bearer $key"
curl -sf -X PUT -H "$auth" "$url/projects/bench" >/dev/null
curl -sf -X PUT -H "$auth" "$url/projects/idle" >/dev/null
curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' "$url/projects/bench/versions" -d '{
  "default_docker_image": "none", "functions": [{"function_name": "noop", "command": ["true"],
  "resource_spec": {"virtual_cpus": 0.1, "memory_gbs": 0.1, "max_concurrency": 100},
  "execution_spec": {"max_retries": 0, "timeout_seconds": 600}}]}' >/dev/null

/usr/bin/python3 - "$url" "$key" "$pid" "$streams" "$rate" "$secs" <<'PY'
import http.client, json, multiprocessing, os, selectors, socket, statistics, sys, threading, time

url, key, pid, n_streams, rate, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), *map(int, sys.argv[4:])
host, port = url.split("//")[1].split(":")
port = int(port)
ticks = os.sysconf("SC_CLK_TCK")

def rss_kb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def cpu_s():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / ticks

# the load comes from processes of their own (forked before any thread), so
# that reading the streams does not slow the posting down
def poster(share, go, created):
    go.wait()
    c = http.client.HTTPConnection(host, port)
    body = json.dumps({"input": "x"})
    hdr = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < secs:
        due = start + n / share
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        c.request("POST", "/projects/bench/versions/latest/functions/noop/invocations", body, hdr)
        r = c.getresponse(); r.read()
        if r.status == 200:
            with created.get_lock():
                created.value += 1
        n += 1

go = multiprocessing.Event()
created = multiprocessing.Value("i", 0)
posters = [multiprocessing.Process(target=poster, args=(rate / 16, go, created)) for _ in range(16)]
for p in posters: p.start()
rss0 = rss_kb()
sel = selectors.DefaultSelector()
def request(project):
    return (f"GET /projects/{project}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            "Accept: text/event-stream\r\n\r\n").encode()
# all but 20 streams watch another project: they hold a connection and get
# keep-alives (every event is still matched against them)
for i in range(n_streams - 20):
    s = socket.create_connection((host, port))
    s.sendall(request("idle"))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
delays, events, closed, seen = [], [0], [0], set()
lock = threading.Lock()
stop = threading.Event()

def idle_reader():
    while not stop.is_set():
        for k, _ in sel.select(0.2):
            try:
                if not k.fileobj.recv(1 << 16):
                    sel.unregister(k.fileobj)
                    closed[0] += 1
            except BlockingIOError:
                pass

def busy_reader(i):
    c = http.client.HTTPConnection(host, port, timeout=60)
    c.request("GET", "/projects/bench/events", headers={"Authorization": "Bearer " + key})
    r = c.getresponse()
    kind = None
    while not stop.is_set():
        try:
            line = r.readline()
        except (socket.timeout, TimeoutError):
            continue
        if not line:
            with lock:
                closed[0] += 1
            return
        if line.startswith(b"event: "):
            kind = line[7:].strip()
        elif line.startswith(b"data: ") and kind == b"invocation":
            now = time.time()
            d = json.loads(line[6:])
            with lock:
                events[0] += 1
                # the creation: a change whose time the event carries
                if (i, d["invocation_id"]) not in seen:
                    seen.add((i, d["invocation_id"]))
                    delays.append(now - d["creation_time_us"] / 1e6)

readers = [threading.Thread(target=busy_reader, args=(i,), daemon=True) for i in range(20)]
for t in readers: t.start()
t = threading.Thread(target=idle_reader, daemon=True)
t.start()
time.sleep(3)  # all open and idle
rss_idle = rss_kb()

cpu0, t0 = cpu_s(), time.monotonic()
go.set()
for p in posters: p.join()
cpu1, t1 = cpu_s(), time.monotonic()
rss_load = rss_kb()
time.sleep(5)  # the tail of the runs
stop.set()
t.join()

c = http.client.HTTPConnection(host, port)
ended = 0
offset = None
while True:
    q = "?status=TERMINATED&max_results=50" + (f"&initial_offset={offset}" if offset else "")
    c.request("GET", "/projects/bench/versions/latest/functions/noop/invocations" + q,
              headers={"Authorization": "Bearer " + key})
    page = json.loads(c.getresponse().read())
    ended += len(page["invocations"])
    offset = page.get("next_offset")
    if not offset:
        break
delays.sort()
q = lambda p: delays[min(len(delays) - 1, int(p * len(delays)))] * 1000 if delays else float("nan")
print(f"streams: {n_streams} open ({closed[0]} closed by the server)")
print(f"daemon RSS: {rss0 / 1024:.1f} MiB with no streams, {rss_idle / 1024:.1f} MiB with "
      f"{n_streams} idle ({(rss_idle - rss0) / n_streams:.1f} KiB each), {rss_load / 1024:.1f} MiB after the load")
print(f"load: {created.value} invocations created in {t1 - t0:.1f} s ({created.value / (t1 - t0):.0f}/s, "
      f"target {rate}/s), {ended} ended; daemon CPU {100 * (cpu1 - cpu0) / (t1 - t0):.0f}% of one core")
per_inv = events[0] / 20 / created.value if created.value else float("nan")
print(f"{events[0]} invocation events on 20 streams ({per_inv:.1f} per invocation created, on each); "
      f"creation -> event delay over {len(delays)}: "
      f"p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms")
PY
