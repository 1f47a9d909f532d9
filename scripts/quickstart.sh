#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs what is missing, builds,
# starts multinoded with its embedded Postgres and the local provider,
# deploys the Python example (examples/python/tasks) and runs its task from
# Python, deploys the command example (examples/expensive_task) and runs it
# with the CLI, prints each status and result, and stops everything it
# started. Usage: scripts/quickstart.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/deps.sh
echo "== building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/multinode-quickstart.XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export MULTINODE_API_URL=http://127.0.0.1:$port
export MULTINODE_API_KEY=quickstart-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
cat >"$work/multinode.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  api_key_env: MULTINODE_API_KEY
data_dir: $work/data
log_level: warn
YAML

echo "== starting multinoded (embedded Postgres in $work/data)"
build/bin/multinoded --config "$work/multinode.yaml" 2>"$work/daemon.log" &
daemon=$!
stop() {
  kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  chmod -R u+w "$work" 2>/dev/null || true # snapshots are read-only
  rm -rf "$work"
}
trap stop EXIT
for _ in $(seq 600); do
  curl -sf "$MULTINODE_API_URL/" >/dev/null && break
  kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log"; exit 1; }
  sleep 0.1
done

mn=build/bin/multinode
# the Python package from this checkout, with Debian's python3 (which has
# python3-jsonpickle); snapshots of deployed folders under $work
export PYTHONPATH=$root/python MULTINODE_PYTHON=/usr/bin/python3
export MULTINODE_SNAPSHOT_DIR=$work/snapshots
echo "== deploying examples/python/tasks as project \"my_project\""
$mn deploy examples/python/tasks/ --project-name=my_project
echo "== running run_expensive_task(x=10000) from Python"
/usr/bin/python3 - <<'PY'
from multinode import get_deployed_function

run_expensive_task = get_deployed_function(project_name="my_project",
                                           function_name="run_expensive_task")
invocation_id = run_expensive_task.start(x=10000)
print("invocation:", invocation_id)
result = run_expensive_task.await_result(invocation_id, timeout=120)
print("status:", run_expensive_task.get(invocation_id).status)
print("result:", result)
assert result == sum(i * i for i in range(10000))
PY

echo "== deploying examples/expensive_task as project \"quickstart\""
$mn deploy examples/expensive_task --project-name quickstart
echo "== running run_expensive_task"
id=$($mn start --project-name quickstart --input 100000 run_expensive_task)
echo "invocation: $id"
result=$($mn wait --project-name quickstart --function run_expensive_task "$id")
status=$($mn get --project-name quickstart --function run_expensive_task --json "$id" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
echo "status: $status"
echo "result: $result"
[ "$status" = SUCCEEDED ]
