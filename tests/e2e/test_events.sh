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
daemon_config ev
sed -i "s/^  api_key: .*/&\n  max_event_streams: 12/" "$MN_WORK/ev.yaml"
daemon_start ev
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
mn="$MN_BIN_DIR/multinode"
W=$MN_WORK
# steps: waits for <id>.go, reports p1..p5, waits for <id>.end, prints its input
steps='i=0; while [ ! -f "'$W'/$MULTINODE_INVOCATION_ID.go" ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done
for s in 1 2 3 4 5; do multinode progress "p$s"; done
i=0; while [ ! -f "'$W'/$MULTINODE_INVOCATION_ID.end" ] && [ $i -lt 1500 ]; do sleep 0.01; i=$((i+1)); done
echo "done: $(cat)"'
# big: 80 progress updates of 100 kB each
big='i=0; while [ ! -f "'$W'/$MULTINODE_INVOCATION_ID.go" ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done
for s in $(seq 1 80); do multinode progress "$(head -c 100000 /dev/zero | tr "\0" x)" || exit 1; done; echo ok'
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
# parent: starts 50 children, then waits for each in turn
parent='ids=; for i in $(seq 1 50); do ids="$ids $(multinode start --project-name ev child)" || exit 1; done
for c in $ids; do multinode wait --quiet --project-name ev --function child $c >/dev/null || exit 1; done
echo "$ids" >"'$W'/children"; echo waited'
api PUT /projects/ev >/dev/null
body=$(python3 -c 'import json,sys
def fn(name, cmd, retries=0):
    return {"function_name": name, "command": ["sh", "-c", cmd],
            "resource_spec": {"virtual_cpus": 0.1, "memory_gbs": 0.1, "max_concurrency": 60},
            "execution_spec": {"max_retries": retries, "timeout_seconds": 600}}
print(json.dumps({"default_docker_image": "none", "functions": [
    fn("steps", sys.argv[1]), fn("big", sys.argv[2]), fn("many", sys.argv[3]),
    fn("child", "sleep 1; echo ok"), fn("parent", sys.argv[4]), fn("quick", "echo ok")]}))' \
  "$steps" "$big" "$many" "$parent")
api POST /projects/ev/versions "$body" >/dev/null
[ "$(last_status)" = 200 ] || fail "cannot deploy"
base=/projects/ev/versions/latest/functions

# --- the listener reads only for a consumer ------------------------------------
# With no stream or wait open, the changes of 5 invocations make the event
# listener read nothing (docs/events.md); a project stream that opens from
# Last-Event-ID 0 while 20 more are posted gets, exactly once and in order,
# every event a later full read finds.
reads() { curl -sf -H "Authorization: Bearer $MN_KEY" "$MN_URL/metrics" |
  sed -n 's/^multinode_event_listener_reads_total //p'; }
quick_done() { # quick_done N: N quick invocations, all TERMINATED
  [ "$(curl -sf -H "Authorization: Bearer $MN_KEY" "$MN_URL$base/quick/invocations?max_results=100" |
    grep -o '"invocation_status": *"TERMINATED"' | wc -l)" -eq "$1" ]; }
r0=$(reads)
for _ in 1 2 3 4 5; do "$mn" start --project-name ev quick >/dev/null; done
wait_until 30 "5 quick invocations terminated" quick_done 5
r1=$(reads)
[ -n "$r0" ] && [ "$r1" = "$r0" ] || fail "the listener read the events table $r0 -> $r1 times with no consumer"
(for _ in $(seq 20); do "$mn" start --project-name ev quick >/dev/null; done) &
poster=$!
sleep 0.2 # the stream opens while the invocations are posted
$SSE "$MN_URL/projects/ev/events?last_event_id=0" "$MN_KEY" --idle 2 >"$W/race.out" &
racer=$!
wait "$poster"
wait_until 60 "25 quick invocations terminated" quick_done 25
wait "$racer"
$SSE "$MN_URL/projects/ev/events?last_event_id=0" "$MN_KEY" --idle 1 >"$W/race_all.out"
r2=$(reads)
$PY - "$W/race.out" "$W/race_all.out" <<'PYEOF' || fail "a stream opened on a stale listener: $(tail -3 "$W/race.out")"
import json, sys
def ids(f):
    return [int(e["id"]) for e in map(json.loads, open(f)) if "id" in e]
live, full = ids(sys.argv[1]), ids(sys.argv[2])
assert len(full) >= 25 * 7, len(full)
dups = sorted({i for i in live if live.count(i) > 1})
assert live == full, (len(live), len(full), "missing", sorted(set(full) - set(live))[:5],
                      "not in the table", sorted(set(live) - set(full))[:5], "twice", dups[:5],
                      "out of order", [b for a, b in zip(live, live[1:]) if b <= a][:5])
PYEOF
[ "$r2" -gt "$r1" ] || fail "the listener did not read for a stream ($r1 -> $r2)"
pass "no consumer: $r0 -> $r1 reads of the events table for 5 invocations; a stream opened meanwhile got all $(grep -c '"id"' "$W/race_all.out") events once, in order ($r2 reads)"

# --- one invocation's stream ------------------------------------------------
# a project stream that leaves after 4 events (resumed below)
$SSE "$MN_URL/projects/ev/events" "$MN_KEY" --max-events 4 --ready "$W/ready1" >"$W/p1.out" &
proj1=$!
wait_until 30 "the project stream opened" test -f "$W/ready1"
"$mn" watch --project-name ev --function steps >"$W/watch.out" 2>"$W/watch.err" &
watcher=$!
id=$("$mn" start --project-name ev --input hello steps)
$SSE "$MN_URL$base/steps/invocations/$id/events" "$MN_KEY" --ready "$W/ready" >"$W/inv.out" &
reader=$!
wait_until 30 "the stream opened" test -f "$W/ready"
wait_until 10 "the execution exists" sh -c "curl -sf -H 'Authorization: Bearer $MN_KEY' '$MN_URL$base/steps/invocations/$id' | grep -q exe-"
timeout 60 "$mn" logs --follow --project-name ev --function steps "$id" >"$W/follow.out" 2>&1 &
follower=$!
touch "$W/$id.go"
wait_until 30 "p5 seen" grep -q '"output": "p5"' "$W/inv.out"
touch "$W/$id.end"
wait "$reader"
wait "$follower" || fail "logs --follow failed or did not end with the execution: $(cat "$W/follow.out")"
grep -q "recorded outcome SUCCEEDED" "$W/follow.out" || fail "logs --follow missed the end of the log: $(cat "$W/follow.out")"
wait_until 10 "watch shows SUCCEEDED" grep -q "steps $id SUCCEEDED" "$W/watch.out"
kill "$watcher"; wait "$watcher" || true
grep -q "steps $id RUNNING" "$W/watch.out" && grep -q "steps $id RUNNING - p5" "$W/watch.out" ||
  fail "watch: $(cat "$W/watch.out" "$W/watch.err")"
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
pass "invocation stream: RUNNING, p1..p5 in order, SUCCEEDED, end, closed; watch and logs --follow follow it"

# --- resume with Last-Event-ID ------------------------------------------------
wait "$proj1"
inv_path=$base/steps/invocations/$id
wait_until 30 "invocation $id terminated" sh -c "curl -sf -H 'Authorization: Bearer $MN_KEY' '$MN_URL$inv_path' | grep -q TERMINATED"
last=$($PY -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-2]["id"])' "$W/p1.out")
$SSE "$MN_URL/projects/ev/events" "$MN_KEY" --last-event-id "$last" --idle 1.5 >"$W/p2.out"
$SSE "$MN_URL/projects/ev/events?last_event_id=0" "$MN_KEY" --idle 1.5 >"$W/all.out"
$PY - "$W/p1.out" "$W/p2.out" "$W/all.out" <<'PYEOF' || fail "resume: $(cat "$W/p1.out" "$W/p2.out")"
import json, sys
def ids(f):
    return [int(e["id"]) for e in map(json.loads, open(f)) if "id" in e]
p1, p2, full = ids(sys.argv[1]), ids(sys.argv[2]), ids(sys.argv[3])
assert len(p1) == 4 and len(p2) > 0, (p1, p2)
full = [i for i in full if i >= p1[0]]  # the stream opened after the quick ones above
assert p1 + p2 == full, (p1, p2, full)
PYEOF
pass "resume: 4 events, reconnect with Last-Event-ID: $(wc -l <"$W/p2.out") more, no gap, no duplicate"
# one event per visible change (migration 11): the first invocation, from
# the whole history, made 4 invocation events (created, RUNNING, SUCCEEDED,
# TERMINATED), one per progress update, and at most 5 of its attempt
# (created, RUNNING, started, outcome, reaped)
$PY - "$W/all.out" "$id" <<'PYEOF' >"$W/count.out" || fail "events of one invocation: $(cat "$W/count.out")"
import json, sys
evs = [e for e in map(json.loads, open(sys.argv[1])) if e.get("data", {}).get("invocation_id") == sys.argv[2]]
inv = [(e["data"]["status"], e["data"]["invocation_status"]) for e in evs if e["event"] == "invocation"]
kinds = [e["event"] for e in evs]
print(kinds, inv)
assert inv == [("PENDING", "RUNNING"), ("RUNNING", "RUNNING"), ("SUCCEEDED", "RUNNING"),
               ("SUCCEEDED", "TERMINATED")], inv
assert kinds.count("progress") == 5 and 3 <= kinds.count("execution") <= 5, kinds
print(len(evs))
PYEOF
pass "one invocation with 5 progress updates: $(tail -1 "$W/count.out") events, 4 of them invocation events"

# --- ?wait_seconds ----------------------------------------------------------
for bad in 61 -1 x 1.5; do
  out=$(api GET "$inv_path?wait_seconds=$bad")
  [ "$(last_status)" = 400 ] || fail "wait_seconds=$bad: status $(last_status), want 400"
  echo "$out" | grep -q "wait_seconds must be a whole number of seconds from 0 to 60" ||
    fail "wait_seconds=$bad: unclear detail $out"
done
id2=$("$mn" start --project-name ev --input two steps)
touch "$W/$id2.go"
t0=$(date +%s.%N)
out=$(api GET "$base/steps/invocations/$id2?wait_seconds=1")
t1=$(date +%s.%N)
[ "$(jget "$out" 'j["executions"][0]["outcome"] if j["executions"] else None')" = null ] ||
  fail "wait_seconds=1 answered a finished invocation"
# at least the second asked for, and not much more (a loaded CI machine
# added 0.6 s of curl and scheduling to it; a wait that ran to another bound
# would take 30 s)
$PY -c "import sys; d=$t1-$t0; sys.exit(0 if 0.95 <= d < 5 else 1)" ||
  fail "wait_seconds=1 on a running invocation took $t0..$t1"
$PY - "$MN_URL$base/steps/invocations/$id2?wait_seconds=30" "$MN_KEY" "$W/sent" >"$W/wait.out" <<'PYEOF' &
import json, sys, time, urllib.request
r = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
open(sys.argv[3], "w").close()
sent = time.time()
body = json.load(urllib.request.urlopen(r, timeout=60))
print(json.dumps({"sent": sent, "got": time.time(), "body": body}))
PYEOF
waiter=$!
wait_until 30 "p5 of $id2" sh -c "curl -sf -H 'Authorization: Bearer $MN_KEY' '$MN_URL$base/steps/invocations/$id2' | grep -q '\"output\":\"p5\"'"
wait_until 10 "the waiting GET sent" test -f "$W/sent"
sleep 0.5 # the GET is held meanwhile: it must not answer before the end
touch "$W/$id2.end"
wait "$waiter"
# the server's answer: its access-log line (written as the answer is queued)
grep "api: GET $base/steps/invocations/$id2 200" "$W/ev.log" | tail -1 >"$W/wait.log"
$PY - "$W/wait.out" "$W/wait.log" <<'PYEOF' >"$W/wait.ms" || fail "wait_seconds=30: $(cat "$W/wait.out" "$W/wait.log")"
import datetime, json, sys
w = json.load(open(sys.argv[1]))
line = open(sys.argv[2]).read()
answered = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp()
e = w["body"]["executions"][0]
assert e["outcome"] == "SUCCEEDED", e
end = e["execution_finish_time_us"] / 1e6
assert w["sent"] < end, "asked after the end"
assert 0 <= answered - end < 0.1, "answered %.3f s after the end" % (answered - end)
print("%.1f ms after the end (%.1f ms at the client)" % ((answered - end) * 1000, (w["got"] - end) * 1000))
PYEOF
pass "wait_seconds: 400 for 61, -1, x, 1.5; 1 s on a running one; answered $(cat "$W/wait.ms")"

# --- a client that stops reading is dropped -----------------------------------
$PY - "$MN_URL" "$MN_KEY" "$W/slow.go" >"$W/slow.out" <<'PYEOF' &
import os, socket, sys, time, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((u.hostname, u.port))
s.sendall(("GET /projects/ev/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2]).encode())
print("open", flush=True)
deadline = time.time() + 90
while not os.path.exists(sys.argv[3]) and time.time() < deadline:
    time.sleep(0.05)  # reads nothing meanwhile
s.settimeout(10)
got, how = 0, "eof"
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += len(b)
except ConnectionResetError:
    how = "reset"
except socket.timeout:
    how = "still open"
print("got", got, how, flush=True)
PYEOF
slow=$!
wait_until 30 "the slow reader connected" grep -q open "$W/slow.out"
big_id=$("$mn" start --project-name ev big)
$SSE "$MN_URL$base/big/invocations/$big_id/events" "$MN_KEY" --ready "$W/ready.big" >"$W/big.out" &
fast=$!
wait_until 30 "the big stream opened" test -f "$W/ready.big"
touch "$W/$big_id.go"
wait_until 60 "the slow reader dropped" grep -q "dropped an event stream: its client does not read fast enough" "$W/ev.log"
touch "$W/slow.go"
wait "$slow"
wait "$fast"
read -r _ got how < <(grep '^got' "$W/slow.out")
[ "$how" != "still open" ] && [ "$got" -lt 8000000 ] || fail "slow reader: got $got bytes, connection $how"
[ "$(grep -c '"event": "progress"' "$W/big.out")" = 80 ] || fail "a reader that keeps up lost progress events"
pass "slow reader dropped after $got bytes ($how); a reader keeping up got all 80 progress events of 100 kB"

# --- progress history: 3,000 updates, paged ---------------------------------
many_id=$("$mn" start --project-name ev many)
# held GETs of 20 s (the api helper gives up after 30 s)
finished() { # finished FUNCTION ID: waits (at most 2 minutes) and prints the invocation
  local out k
  for k in $(seq 1 15); do
    out=$(api GET "$base/$1/invocations/$2?wait_seconds=20")
    [ "$(jget "$out" 'j["invocation_status"]')" = RUNNING ] || break
  done
  echo "$out"
}
out=$(finished many "$many_id")
[ "$(jget "$out" 'j["executions"][0]["outcome"]')" = SUCCEEDED ] || fail "many did not succeed: $out"
exe=$(jget "$out" 'j["executions"][0]["execution_id"]')
ppath="$base/many/invocations/$many_id/executions/$exe/progress"
$PY - "$MN_URL$ppath" "$MN_KEY" <<'PYEOF' || fail "progress paging"
import json, sys, urllib.error, urllib.request
def get(q):
    r = urllib.request.Request(sys.argv[1] + q, headers={"Authorization": "Bearer " + sys.argv[2]})
    try:
        with urllib.request.urlopen(r) as f:
            return f.status, json.load(f)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
outputs, offset, pages = [], None, 0
while True:
    status, page = get("?max_results=1000" + ("&initial_offset=" + offset if offset else ""))
    assert status == 200, (status, page)
    pages += 1
    outputs += [u["output"] for u in page["updates"]]
    assert all(isinstance(u["time"], int) for u in page["updates"])
    offset = page["next_offset"]
    if offset is None:
        break
assert outputs == ["u%d" % n for n in range(1, 3001)], (len(outputs), outputs[:3], outputs[-3:])
assert pages == 3, pages
status, page = get("?max_results=2&initial_offset=2999")
assert status == 200 and [u["output"] for u in page["updates"]] == ["u2999", "u3000"], page
assert page["next_offset"] is None, page
for q, want in (("?initial_offset=abc", 400), ("?initial_offset=0", 400), ("?max_results=0", 422)):
    status, body = get(q)
    assert status == want, (q, status, body)
PYEOF
pass "progress history: 3,000 updates in 3 pages of 1,000, in order; bad offsets 400, max_results=0 422"

# --- a parent waiting for 50 children -----------------------------------------
# GETs of any invocation, from the server's metrics (docs/observability.md)
inv_gets() {
  curl -sf -H "Authorization: Bearer $MN_KEY" "$MN_URL/metrics" | $PY -c '
import re, sys
total = 0
for line in sys.stdin:
    if line.startswith("multinode_http_requests_total{") and \
       "method=\"GET\"" in line and \
       "route=\"/projects/{project_name}/versions/{version_ref}/functions/{function_name}/invocations/{invocation_id}\"" in line:
        total += int(float(line.rsplit(" ", 1)[1]))
print(total)'
}
before=$(inv_gets)
pid=$("$mn" start --project-name ev parent)
own=0
for k in 1 2 3 4 5 6; do
  out=$(api GET "$base/parent/invocations/$pid?wait_seconds=20"); own=$((own + 1))
  [ "$(jget "$out" 'j["invocation_status"]')" = RUNNING ] || break
done
after=$(inv_gets)
[ "$(jget "$out" 'j["executions"][0]["outcome"]')" = SUCCEEDED ] || fail "parent did not succeed: $out"
[ "$(wc -w <"$W/children")" = 50 ] || fail "the parent did not start 50 children"
by_metrics=$((after - before - own))
by_log=0
for c in $(cat "$W/children"); do
  by_log=$((by_log + $(grep -c "api: GET /projects/ev/versions/[^/]*/functions/child/invocations/$c" "$W/ev.log" || true)))
done
[ "$by_metrics" -le 60 ] && [ "$by_log" -le 60 ] && [ "$by_log" -ge 50 ] ||
  fail "the parent made $by_metrics GETs (metrics), $by_log of its children (log); want 50 to 60"
pass "a parent waited for 50 children with $by_metrics GETs (metrics; $by_log in the access log)"

# --- the stream limit: a stream past server.max_event_streams gets 503, and
# requests still get through while the streams are all taken
$PY - "$MN_URL" "$MN_KEY" <<'PYEOF' || fail "stream limit"
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
hdr = {"Authorization": "Bearer " + sys.argv[2]}
conns, refused = [], None
for _ in range(20):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/projects/ev/events", headers=hdr)
    r = c.getresponse()
    if r.status != 200:
        refused = (r.status, json.loads(r.read()))
        break
    conns.append((c, r))
assert refused and refused[0] == 503 and "Too many event streams" in refused[1]["detail"], refused
assert len(conns) >= 1, len(conns)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
c.request("GET", "/projects/ev", headers=hdr)
assert c.getresponse().status == 200
print(len(conns))
PYEOF
pass "stream limit: 503 with a clear detail past server.max_event_streams (12); requests still answered"
