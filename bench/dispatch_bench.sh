#!/usr/bin/env bash
# Dispatch benchmark of the local provider (not a test): starts multinoded
# with its embedded Postgres and runs mn-bench-dispatch against it.
# Usage: bench/dispatch_bench.sh [BUILD_DIR] [N_SEQUENTIAL] [N_THROUGHPUT]
# MN_BENCH_SPAWNER=false: workers forked and exec'd by the daemon instead of
# forked by the worker spawner (providers.local.spawner).
# MN_BENCH_POLL=1: the latency run learns of each end by a GET every
# millisecond instead of a server-held wait; MN_BENCH_STAMP_SLOTS=1: its
# function has 1 slot instead of 4 (both the old settings, to compare).
# Then the peer, graphile-worker (npm, installed into /tmp/mn-graphile when
# missing; MN_BENCH_PEER=0 skips it), runs the same two measurements on the
# same embedded Postgres (database "graphile"), and our figures are printed
# as ratios to its.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) # absolute: the workers run in folders of their own
n=${2:-1000}
m=${3:-1000}
# MN_BENCH_TMP: where the daemon's data_dir goes (default /tmp); a launch
# creates two inodes there (its working directory and log), whose cost
# depends on the file system (bench/README.md, "Figures of 2026-12-02
# 05:09-05:13", and docs/local.md, "What a launch leaves on disk").
work=$(mktemp -d "${MN_BENCH_TMP:-/tmp}/mn-bench.XXXXXX"); chmod 755 "$work"
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
up=0 # a first start makes the cluster: up to minutes on a loaded machine
for _ in $(seq 1800); do
  curl -sf "http://127.0.0.1:$port/" >/dev/null && { up=1; break; }
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[ $up = 1 ] || { echo "the daemon did not start:"; tail -20 "${MN_BENCH_LOG:-$work/daemon.log}"; exit 1; }
# CPU (utime + stime, and the reaped children's, in clock ticks) of the
# daemon, of Postgres (the postmaster and its children) and of the worker
# spawner (with the workers and commands it reaped), over the whole run
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_split() {
  local pm sp p pg=0
  pm=$(head -1 "$work/data/postgres/data/postmaster.pid")
  for p in $pm $(pgrep -P "$pm"); do pg=$((pg + $(ticks "$p"))); done
  sp=0
  for p in $(pgrep -P "$pid" -f -- '--spawner'); do sp=$((sp + $(ticks "$p"))); done
  echo "$(awk '{print $14 + $15}' "/proc/$pid/stat") $pg $sp"
}
# and of each of the daemon's threads, summed by name (docs/observability.md,
# "The daemon's threads")
threads() {
  local t
  for t in /proc/$pid/task/*; do echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat") $(cat "$t/comm")"; done |
    LC_ALL=C sort
}
threads >"$work/threads0"
read -r d0 p0 s0 < <(cpu_split)
"$build/bin/mn-bench-dispatch" "http://127.0.0.1:$port" bench-key "$build/bin/mn-bench-stamp" "$n" "$m" |
  tee "$work/ours.txt"
read -r d1 p1 s1 < <(cpu_split)
threads >"$work/threads1"
awk -v d=$((d1 - d0)) -v p=$((p1 - p0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
  -v n=$((n + m)) 'BEGIN { f = 1000 / hz / n
  printf "CPU per invocation: daemon %.2f ms, Postgres %.2f ms, spawner with workers and commands %.2f ms: %.2f ms\n",
    d * f, p * f, s * f, (d + p + s) * f }'
LC_ALL=C join "$work/threads0" "$work/threads1" | awk -v hz="$(getconf CLK_TCK)" -v n=$((n + m)) '
  { t[$3] += $4 - $2 } END { for (k in t) printf "%s %.2f\n", k, t[k] * 1000 / hz / n }' |
  sort -k2 -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : "  the daemon by thread (ms per invocation): "), $1, $2 }
  END { print "" }'
[ "${MN_BENCH_PEER:-1}" = 1 ] || exit 0

peer=/tmp/mn-graphile
if [ ! -d "$peer/node_modules/graphile-worker" ]; then
  mkdir -p "$peer"
  (cd "$peer" && npm install --no-audit --no-fund --silent graphile-worker >/dev/null) ||
    { echo "peer: cannot install graphile-worker from npm"; exit 0; }
fi
cp "$root/bench/graphile_peer.mjs" "$peer/"
pidfile=$work/data/postgres/data/postmaster.pid
sock=$(sed -n 5p "$pidfile") pgport=$(sed -n 4p "$pidfile")
psql -X -q "host=$sock port=$pgport dbname=postgres user=postgres" -c "CREATE DATABASE graphile" >/dev/null
conn="postgres://postgres@/graphile?host=$sock&port=$pgport"
figures=$(cd "$peer" && node graphile_peer.mjs "$conn" "$n" "$m" | sed -n 's/^RESULT //p')
echo "peer (graphile-worker, warm workers, same Postgres): $figures"
python3 - "$work/ours.txt" "$figures" <<'PY'
import json, re, sys
ours = open(sys.argv[1]).read()
peer = json.loads(sys.argv[2])
p50 = float(re.search(r"p50 ([0-9.]+) ms", ours).group(1))
p99 = float(re.search(r"p99 ([0-9.]+) ms", ours).group(1))
rate = float(re.search(r"([0-9.]+) invocations/s", ours).group(1))
print(f"ours / graphile-worker: dispatch p50 {p50:.2f} / {peer['p50_ms']:.2f} ms = {p50 / peer['p50_ms']:.2f}x, "
      f"p99 {p99:.2f} / {peer['p99_ms']:.2f} ms = {p99 / peer['p99_ms']:.2f}x, "
      f"throughput {rate:.0f} / {peer['jobs_per_s']:.0f} per s = {rate / peer['jobs_per_s']:.2f}x")
PY
