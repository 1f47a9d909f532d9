#!/usr/bin/env bash
# Dispatch benchmark of the local provider (not a test): starts multinoded
# with its embedded Postgres and runs mn-bench-dispatch against it.
# Usage: bench/dispatch_bench.sh [BUILD_DIR] [N_SEQUENTIAL] [N_THROUGHPUT]
# MN_BENCH_SPAWNER=false: workers forked and exec'd by the daemon instead of
# forked by the worker spawner (providers.local.spawner).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-1000}
m=${3:-1000}
work=$(mktemp -d /tmp/mn-bench.XXXXXX); chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/multinode.yaml" <<YAML
server: { listen: 127.0.0.1:$port, api_key: bench-key }
data_dir: $work/data
log_level: ${MN_BENCH_LOG_LEVEL:-warn}
providers: { default: local, local: { spawner: ${MN_BENCH_SPAWNER:-true} } }
YAML
"$build/bin/multinoded" --config "$work/multinode.yaml" 2>"${MN_BENCH_LOG:-$work/daemon.log}" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
"$build/bin/mn-bench-dispatch" "http://127.0.0.1:$port" bench-key "$build/bin/mn-bench-stamp" "$n" "$m"
