#!/usr/bin/env bash
# API throughput benchmark (not a test). Starts multinoded with its embedded
# Postgres and no scheduler (an API-only daemon), creates one invocation, then drives the API with wrk (32
# connections, 2 threads) and prints requests/s and p99 latency against the
# targets: GET .../invocations/{id} >= 5000 req/s with p99 <= 10 ms, and
# POST .../invocations >= 1500 req/s.
# Usage: bench/api_bench.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
secs=${2:-10}
command -v wrk >/dev/null || "$root/scripts/deps.sh" wrk

work=$(mktemp -d /tmp/mn-bench.XXXXXX); chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=bench-key
cat >"$work/multinode.yaml" <<YAML
server: { listen: 127.0.0.1:$port, api_key: $key, threads: 4 }
store: { postgres: { pool_size: 8 } }
data_dir: $work/data
log_level: warn
# the API alone: no scheduler competes for the machine's two cores
# (MN_BENCH_SCHEDULER=1 keeps it, to see the whole daemon under this load)
scheduler: { enabled: $([ -n "${MN_BENCH_SCHEDULER:-}" ] && echo true || echo false) }
YAML
"$build/bin/multinoded" --config "$work/multinode.yaml" 2>"$work/daemon.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
url=http://127.0.0.1:$port
for _ in $(seq 300); do curl -sf "$url/" >/dev/null && break; sleep 0.1; done
auth="Authorization: Bearer $key"
curl -sf -X PUT -H "$auth" "$url/projects/bench" >/dev/null
curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' "$url/projects/bench/versions" -d '{
  "default_docker_image": "img", "functions": [{"function_name": "f",
  "resource_spec": {"virtual_cpus": 1, "memory_gbs": 1, "max_concurrency": 10},
  "execution_spec": {"max_retries": 0, "timeout_seconds": 60}}]}' >/dev/null
base="$url/projects/bench/versions/latest/functions/f/invocations"
inv=$(curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' "$base" -d '{"input":"x"}' |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["invocation_id"])')

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"input": "bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA

report() { # name target_rps target_p99_ms wrk-output-file
  python3 - "$@" <<'PY'
import re, sys
name, target, p99_target, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", text)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = int(non2xx.group(1)) if non2xx else 0
line = f"{name}: {rps:.0f} req/s (target {target:.0f}, ratio {rps/target:.2f}), p99 {p99:.2f} ms"
if p99_target > 0:
    line += f" (target {p99_target:.0f} ms, ratio {p99/p99_target:.2f})"
line += f", non-2xx {errors}"
print(line)
PY
}

wrk -t2 -c32 -d"${secs}s" --latency -H "$auth" "$base/$inv" >"$work/get.txt"
report "GET invocation" 5000 10 "$work/get.txt"
wrk -t2 -c32 -d"${secs}s" --latency -s "$work/post.lua" "$base" >"$work/post.txt"
report "POST invocation" 1500 0 "$work/post.txt"
