#!/usr/bin/env bash
# Live events (docs/events.md): an invocation's stream shows RUNNING, every
# progress update in order, SUCCEEDED and its end, then closes; a project
# stream resumed with Last-Event-ID misses nothing and repeats nothing; a
# client that stops reading is dropped; ?wait_seconds answers within 100 ms
# of the end and not before; the progress history pages through 3,000
# updates; a parent waiting for 50 children makes at most 60 GETs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
PY=${MULTINODE_PYTHON:-/usr/bin/python3}
SSE="$PY $(dirname "$0")/sse_read.py"
daemon_start ev
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
mn="$MN_BIN_DIR/multinode"
W=$MN_WORK
# steps: waits for <id>.go, reports p1..p5, waits for <id>.end, prints its input
steps='i=0; while [ ! -f "'$W'/$MULTINODE_INVOCATION_ID.go" ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done
for s in 1 2 3 4 5; do multinode progress "p$s"; done
i=0; while [ ! -f "'$W'/$MULTINODE_INVOCATION_ID.end" ] && [ $i -lt 1500 ]; do sleep 0.01; i=$((i+1)); done
echo "done: $(cat)"'
# big: 40 progress updates of 200 kB each
big='for s in $(seq 1 40); do multinode progress "$(head -c 200000 /dev/zero | tr "\0" x)"; done; echo ok'
# many: 3000 progress updates through the execution's own key
many=$PY' -c "
import http.client, json, os, urllib.parse
u = urllib.parse.urlsplit(os.environ[\"MULTINODE_API_URL\"])
c = http.client.HTTPConnection(u.hostname, u.port)
e = os.environ
path = \"/projects/%s/versions/%s/functions/%s/invocations/%s/executions/%s/update\" % (
    e[\"MULTINODE_PROJECT_NAME\"], e[\"MULTINODE_VERSION_ID\"], e[\"MULTINODE_FUNCTION_NAME\"],
    e[\"MULTINODE_INVOCATION_ID\"], e[\"MULTINODE_EXECUTION_ID\"])
for n in range(1, 3001):
    c.request(\"PUT\", path, json.dumps({\"latest_output\": \"u%d\" % n}),
              {\"Authorization\": \"Bearer \" + e[\"MULTINODE_API_KEY\"], \"Content-Type\": \"application/json\"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
print(\"ok\")
"'
api PUT /projects/ev >/dev/null
body=$(python3 -c 'import json,sys
def fn(name, cmd, retries=0):
    return {"function_name": name, "command": ["sh", "-c", cmd],
            "resource_spec": {"virtual_cpus": 0.1, "memory_gbs": 0.1, "max_concurrency": 60},
            "execution_spec": {"max_retries": retries, "timeout_seconds": 120}}
print(json.dumps({"default_docker_image": "none", "functions": [
    fn("steps", sys.argv[1]), fn("big", sys.argv[2]), fn("many", sys.argv[3])]}))' "$steps" "$big" "$many")
api POST /projects/ev/versions "$body" >/dev/null
[ "$(last_status)" = 200 ] || fail "cannot deploy"
base=/projects/ev/versions/latest/functions

# --- one invocation's stream ------------------------------------------------
$SSE "$MN_URL/projects/ev/events" "$MN_KEY" --idle 20 >"$W/project1.out" &
proj1=$!
id=$("$mn" start --project-name ev --input hello steps)
$SSE "$MN_URL$base/steps/invocations/$id/events" "$MN_KEY" --ready "$W/ready" >"$W/inv.out" &
reader=$!
wait_until 10 "the stream opened" test -f "$W/ready"
touch "$W/$id.go"
wait_until 30 "p5 seen" grep -q '"output": "p5"' "$W/inv.out"
touch "$W/$id.end"
wait "$reader"
$PY - "$W/inv.out" <<'PYEOF' || fail "invocation stream: $(cat "$W/inv.out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1] == {"end": "closed"}, lines[-1]
evs = lines[:-1]
statuses = [e["data"]["status"] for e in evs if e["event"] == "invocation"]
progress = [e["data"]["output"] for e in evs if e["event"] == "progress"]
assert "RUNNING" in statuses, statuses
assert statuses[-1] == "SUCCEEDED", statuses
assert progress == ["p1", "p2", "p3", "p4", "p5"], progress
assert evs[-1]["event"] == "end", evs[-1]
assert evs[-1]["data"]["executions"][0]["output"] == "done: hello", evs[-1]
ids = [int(e["id"]) for e in evs if "id" in e]
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
started = [e for e in evs if e["event"] == "execution" and e["data"]["execution_start_time"]]
assert started, "no execution start"
PYEOF
pass "invocation stream: RUNNING, p1..p5 in order, SUCCEEDED, end, closed"
