#!/usr/bin/env bash
# Queue-depth benchmark (not a test): how the daemon's costs change with the
# number of invocations waiting behind a quota. For each depth D (default
# 0 10000 100000) a fresh daemon (embedded Postgres, local provider) gets
# D invocations of `slow` (max_concurrency 4, `sleep 1`: it drains 4 a
# second), then measures, with the queue in place:
#   - POST -> TERMINATED of an unrelated no-op function (`true`), the median
#     of 40 sequential invocations (polled with GET on a kept-alive
#     connection);
#   - GET invocation p50 of 1000 GETs;
#   - the daemon's RSS;
#   - the CPU of the daemon and of Postgres over 10 s while `slow` drains.
# Prints each figure and its ratio to depth 0. MN_BENCH_SETTLE=1 waits,
# after the queue is filled and before measuring, until autovacuum is idle
# and has no analyze or vacuum of invocations due.
# MN_BENCH_KEYS=1000 MN_BENCH_PRIORITIES=3 spread the queue over 1,000
# concurrency keys (max_concurrency_per_key 1) and 3 priorities.
# Usage: bench/queue_depth.sh [BUILD_DIR] [DEPTH...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
depths=("$@")
[ ${#depths[@]} -gt 0 ] || depths=(0 10000 100000)

run_depth() { # DEPTH: prints one JSON line of figures
  local depth=$1 work port pid
  work=$(mktemp -d /tmp/mn-qbench.XXXXXX); chmod 755 "$work"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$work/multinode.yaml" <<YAML
server: { listen: 127.0.0.1:$port, api_key: bench-key-0123456789 }
data_dir: $work/data
log_level: ${MN_BENCH_LOG_LEVEL:-warn}
providers: { default: local, local: {} }
YAML
  "$build/bin/multinoded" --config "$work/multinode.yaml" 2>"$work/daemon.log" &
  pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  /usr/bin/python3 - "$port" "$depth" "$pid" "$work" <<'PY' || true
import http.client, json, os, statistics, sys, threading, time

port, depth, pid, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
H = {"Authorization": "Bearer bench-key-0123456789", "Content-Type": "application/json"}

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)

def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=H)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data)

c = conn()
call(c, "PUT", "/projects/qb")
# MN_BENCH_KEYS=K spreads the queue over K concurrency keys (one attempt per
# key at a time) and MN_BENCH_PRIORITIES=P over priorities 0 .. P-1
keys = int(os.environ.get("MN_BENCH_KEYS", "0"))
prios = int(os.environ.get("MN_BENCH_PRIORITIES", "0"))
spec = lambda name, cmd, conc, per_key=None: {"function_name": name, "command": cmd,
    "resource_spec": dict({"virtual_cpus": 0.1, "memory_gbs": 0.25, "max_concurrency": conc},
                          **({"max_concurrency_per_key": per_key} if per_key else {})),
    "execution_spec": {"max_retries": 0, "timeout_seconds": 86400}}
v = call(c, "POST", "/projects/qb/versions", {"default_docker_image": "none", "functions": [
    spec("slow", ["sleep", "1"], 4, 1 if keys else None),
    spec("noop", ["true"], 100)]})["version_id"]
base = f"/projects/qb/versions/{v}/functions"

# the queue: D invocations of slow, posted from 4 connections
def post_many(n, first):
    cc = conn()
    for k in range(first, first + n):
        body = {"input": ""}
        if keys:
            body["concurrency_key"] = f"key-{k % keys}"
        if prios:
            body["priority"] = k % prios
        call(cc, "POST", f"{base}/slow/invocations", body)
t0 = time.monotonic()
threads = [threading.Thread(target=post_many, args=(depth // 4 + (1 if i < depth % 4 else 0),
                                                    i * (depth // 4 + 1)))
           for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
fill_s = time.monotonic() - t0
c = conn()  # the daemon closes a connection idle for longer than request_timeout
settle_s = 0.0
if os.environ.get("MN_BENCH_SETTLE") == "1":
    # MN_BENCH_SETTLE=1: measure once Postgres has no autovacuum at work
    import subprocess
    pidfile = os.path.join(work, "data/postgres/data/postmaster.pid")
    lines = open(pidfile).read().split("\n")
    dsn = f"host={lines[4]} port={lines[3]} dbname=multinode user=postgres"
    # ... and none is due on invocations: by the table's thresholds
    # (migration 4 for analyze, Postgres's defaults for vacuum), after 2 s
    # for the fill's counts to reach the statistics. One moment without a
    # worker was not enough: an autoanalyze of the new rows could still start
    # inside the measurement.
    def psql(q):
        return subprocess.run(["psql", "-X", "-A", "-t", dsn, "-c", q],
                              capture_output=True, text=True).stdout.strip()
    t_settle = time.monotonic()
    time.sleep(2)
    while time.monotonic() - t_settle < 300:
        settled = psql(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity"
            "  WHERE backend_type = 'autovacuum worker')"
            " AND s.n_mod_since_analyze <= 200 + 0.02 * greatest(c.reltuples, 0)"
            " AND s.n_ins_since_vacuum <= 1000 + 0.2 * greatest(c.reltuples, 0)"
            " AND s.n_dead_tup <= 50 + 0.2 * greatest(c.reltuples, 0)"
            " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.relname = 'invocations'")
        if settled == "t":
            break
        time.sleep(0.5)
    settle_s = time.monotonic() - t_settle

def post_to_terminated():
    t = time.monotonic()
    iid = call(c, "POST", f"{base}/noop/invocations", {"input": ""})["invocation_id"]
    while call(c, "GET", f"{base}/noop/invocations/{iid}")["invocation_status"] != "TERMINATED":
        pass
    return (time.monotonic() - t) * 1000, iid

post_to_terminated()  # warm up
lat = [post_to_terminated()[0] for _ in range(40)]
_, one = post_to_terminated()
gets = []
for _ in range(1000):
    t = time.monotonic()
    call(c, "GET", f"{base}/noop/invocations/{one}")
    gets.append((time.monotonic() - t) * 1000)

def rss_kb(p):
    with open(f"/proc/{p}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def cpu_ticks(pids):
    ticks = {}
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks[p] = int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return ticks

def spent(before, after):
    # processes alive at both ends, plus those born in between (backends come and go)
    return sum(after[p] - before.get(p, 0) for p in after)

def postgres_pids():
    # this daemon's cluster only: its postmaster and the postmaster's children
    # (matching every process named postgres counted other clusters on a
    # shared machine)
    try:
        pm = int(open(os.path.join(work, "data/postgres/data/postmaster.pid")).readline())
    except (OSError, ValueError):
        return []
    out = [pm]
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pm:
                out.append(int(p))
    return out

pg = postgres_pids()
hz = os.sysconf("SC_CLK_TCK")
d0, p0, t0 = cpu_ticks([pid]), cpu_ticks(pg), time.monotonic()
time.sleep(10)
d1, p1, t1 = cpu_ticks([pid]), cpu_ticks(postgres_pids()), time.monotonic()
d1, d0 = spent(d0, d1), 0
p1, p0 = spent(p0, p1), 0
print(json.dumps({"depth": depth, "fill_s": round(fill_s, 1), "settle_s": round(settle_s, 1),
    "post_to_terminated_ms": round(statistics.median(lat), 2),
    "get_p50_ms": round(statistics.median(gets), 3),
    "rss_mb": round(rss_kb(pid) / 1024, 1),
    "daemon_cpu": round((d1 - d0) / hz / (t1 - t0), 3),
    "postgres_cpu": round((p1 - p0) / hz / (t1 - t0), 3)}))
PY
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  pkill -9 -f "$work" 2>/dev/null || true
  # workers outlive a stopped daemon (a restarted one adopts them) and their
  # command lines do not name $work: find them by their working directory
  for cwd in /proc/[0-9]*/cwd; do
    case $(readlink "$cwd" 2>/dev/null) in "$work"/*) p=${cwd#/proc/}; kill -9 "${p%/cwd}" 2>/dev/null || true ;; esac
  done
  [ -z "${MN_BENCH_KEEP_LOG:-}" ] || cp "$work/daemon.log" "$MN_BENCH_KEEP_LOG.$depth"
  rm -rf "$work"
}

results=()
for d in "${depths[@]}"; do
  echo "== depth $d" >&2
  results+=("$(run_depth "$d")")
done
/usr/bin/python3 - "${results[@]}" <<'PY'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:] if a.strip()]
if not rows:
    raise SystemExit("no figures")
base = rows[0]
keys = [("post_to_terminated_ms", "POST->TERMINATED median (ms)"), ("get_p50_ms", "GET p50 (ms)"),
        ("rss_mb", "daemon RSS (MB)"), ("daemon_cpu", "daemon CPU (cores)"),
        ("postgres_cpu", "Postgres CPU (cores)")]
print("| depth | " + " | ".join(label for _, label in keys) + " | queue filled in |")
print("|---" * (len(keys) + 2) + "|")
for r in rows:
    cells = []
    for k, _ in keys:
        ratio = f" ({r[k] / base[k]:.2f}x)" if base[k] and r is not base else ""
        cells.append(f"{r[k]}{ratio}")
    print(f"| {r['depth']:,} | " + " | ".join(cells) + f" | {r['fill_s']} s |")
PY
