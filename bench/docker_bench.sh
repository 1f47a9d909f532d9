#!/usr/bin/env bash
# Docker provider benchmark (not a test): the median time from POST to
# TERMINATED of an invocation of a no-op container, divided by the median
# time of `docker run --rm` of the same image, measured in the same run,
# alternating. Target: ≤ 1.25.
#
# Usage: bench/docker_bench.sh [BUILD_DIR] [N] [VCPUS]   (default: build, 30, 1)
# VCPUS (or MN_BENCH_VCPUS): the CPU size of both, the function's
# virtual_cpus and `docker run --cpus` (the original's default is 0.1).
# Starts a private Docker Engine (scripts/docker-engine.sh; needs root and
# docker.io) and multinoded with its embedded Postgres; removes both at exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-30}
vcpus=${3:-${MN_BENCH_VCPUS:-1}}
case $vcpus in ''|*[!0-9.]*|*.*.*|.) echo "error: VCPUS \"$vcpus\" is not a number of vCPUs (e.g. 0.1)" >&2; exit 2 ;; esac
[ -x "$build/bin/multinoded" ] || { echo "error: no multinoded in $build/bin" >&2; exit 1; }
work=$(mktemp -d /tmp/mn-bench.XXXXXX); chmod 755 "$work"
engine=$(mktemp -d /tmp/mnd.XXXXXX)
pid=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  "$root/scripts/docker-engine.sh" teardown "$engine" || true
  rm -rf "$work"
}
trap cleanup EXIT
sock=$("$root/scripts/docker-engine.sh" start "$engine")
export DOCKER_HOST=unix://$sock DOCKER_API_VERSION=1.41
image=multinode-bench-worker:latest
"$root/scripts/worker-image.sh" --bin-dir "$build/bin" --tag "$image" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/multinode.yaml" <<YAML
server: { listen: 127.0.0.1:$port, api_key: bench-key }
data_dir: $work/data
log_level: ${MN_BENCH_LOG_LEVEL:-warn}
providers:
  default: docker
  docker: { socket: $sock, network: host }
YAML
"$build/bin/multinoded" --config "$work/multinode.yaml" 2>"${MN_BENCH_LOG:-$work/daemon.log}" &
pid=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

python3 - "http://127.0.0.1:$port" "$image" "$n" "$vcpus" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request

url, image, n, vcpus = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer bench-key", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")

call("PUT", "/projects/bench")
v = call("POST", "/projects/bench/versions", {"default_docker_image": image, "functions": [
    {"function_name": "noop", "command": ["true"],
     "resource_spec": {"virtual_cpus": float(vcpus), "memory_gbs": 0.5, "max_concurrency": 1},
     "execution_spec": {"max_retries": 0, "timeout_seconds": 60}}]})["version_id"]
base = "/projects/bench/versions/%s/functions/noop/invocations" % v

def invocation():
    t0 = time.monotonic()
    i = call("POST", base, {"input": ""})["invocation_id"]
    while True:
        j = call("GET", base + "/" + i)
        if j["invocation_status"] == "TERMINATED":
            t = time.monotonic() - t0
            if j["executions"][0]["outcome"] != "SUCCEEDED":
                sys.exit("invocation %s did not succeed: %s" % (i, j))
            return t
        time.sleep(0.002)

def docker_run():
    t0 = time.monotonic()
    subprocess.run(["docker", "run", "--rm", "--network", "host", "--cpus", vcpus,
                    "--entrypoint", "true", image],
                   check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0

for _ in range(2):  # warm-up: preparation, first container, the CLI's caches
    invocation(); docker_run()
ours, theirs = [], []
for _ in range(n):
    ours.append(invocation())
    theirs.append(docker_run())
a, b = statistics.median(ours), statistics.median(theirs)
print("docker provider, %s vCPU, %d runs each (alternating):" % (vcpus, n))
print("  POST -> TERMINATED, no-op container: median %.1f ms (p10 %.1f, p90 %.1f)" % (
    a * 1e3, sorted(ours)[n // 10] * 1e3, sorted(ours)[n * 9 // 10] * 1e3))
print("  docker run --rm, same image:         median %.1f ms (p10 %.1f, p90 %.1f)" % (
    b * 1e3, sorted(theirs)[n // 10] * 1e3, sorted(theirs)[n * 9 // 10] * 1e3))
print("  ratio: %.2f (target <= 1.25)" % (a / b))
PY
