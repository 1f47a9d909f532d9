#!/usr/bin/env bash
# Fan-out from inside a worker (docs/architecture.md §6, docs/compatibility.md §4.4): function `sum`
# starts N=8 children of `square` with `multinode start`, reports progress
# with `multinode progress`, waits for each child with `multinode wait` and
# prints the sum of their results.
# Checks: the parent's output is the expected sum; every child SUCCEEDED with
# parent_invocation = the parent; the parent's progress was recorded (seen
# through GET while it ran, and all 2N /update requests in the daemon's
# log); each child ran exactly once; listing by parent finds the children.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

N=8
gate=$MN_WORK/gate
mkdir -p -m 1777 "$gate"
daemon_config d "$LC_SCHED_YAML"
daemon_start d

# square: appends its execution id to a per-invocation file, prints input^2.
square='echo $MULTINODE_EXECUTION_ID >> '"$gate"'/$MULTINODE_INVOCATION_ID.runs; k=$(cat); echo $((k*k))'
# sum: starts N children, waits for a go-file before collecting (so its
# progress is observable), then waits for each child and sums.
sum='set -e; ids=""; k=1
while [ $k -le '"$N"' ]; do
  id=$(multinode start square --input $k); ids="$ids $id"
  multinode progress "started $k"; k=$((k+1))
done
echo "$ids" > '"$gate"'/$MULTINODE_INVOCATION_ID.children
'"$(lc_gate "$gate")"'
total=0
for id in $ids; do
  r=$(multinode wait --quiet --function square $id); total=$((total+r))
  multinode progress "sum so far $total"
done
echo $total'
lc_deploy fanout "[$(lc_fn square "$square" "$N"), $(lc_fn sum "$sum" 1)]"
pass "deployed sum and square"

parent=$(lc_start sum "")
wait_until 30 "the parent to start its children" test -f "$gate/$parent.started"
# While it waits on its go-file, its progress is the last `multinode progress`.
progress=$(lc_field sum "$parent" 'j["executions"][-1]["output"]')
[ "$progress" = "started $N" ] || fail "parent's progress while running is '$progress', expected 'started $N'"
[ "$(lc_field sum "$parent" 'j["executions"][-1]["outcome"]')" = null ] ||
  fail "parent has an outcome while running"
pass "parent's progress visible while it runs: '$progress'"

read -r -a children <"$gate/$parent.children"
[ "${#children[@]}" = "$N" ] || fail "parent recorded ${#children[@]} children, expected $N"
touch "$gate/$parent.go"

lc_wait_terminated 60 sum "$parent"
inv=$(lc_inv sum "$parent")
[ "$(jget "$inv" 'j["executions"][-1]["outcome"]')" = SUCCEEDED ] ||
  fail "parent did not succeed: $(jget "$inv" 'j["executions"]')"
expected=0
for ((k = 1; k <= N; k++)); do expected=$((expected + k * k)); done
got=$(jget "$inv" 'j["executions"][-1]["output"]')
[ "$got" = "$expected" ] || fail "parent's output is '$got', expected $expected"
[ "$(jget "$inv" 'len(j["executions"])')" = 1 ] || fail "parent ran more than one execution"
pass "parent's output is the sum $expected"

k=0
for c in "${children[@]}"; do
  k=$((k + 1))
  lc_wait_terminated 30 square "$c"
  ci=$(lc_inv square "$c")
  [ "$(jget "$ci" 'j["parent_invocation"]["invocation_id"]')" = "$parent" ] ||
    fail "child $c: parent_invocation is $(jget "$ci" 'j["parent_invocation"]')"
  [ "$(jget "$ci" 'j["parent_invocation"]["function_name"]')" = sum ] ||
    fail "child $c: parent function is not sum"
  [ "$(jget "$ci" 'j["input"]')" = "$k" ] || fail "child $c: input $(jget "$ci" 'j["input"]'), expected $k"
  [ "$(jget "$ci" '[e["outcome"] for e in j["executions"]]')" = '["SUCCEEDED"]' ] ||
    fail "child $c: outcomes $(jget "$ci" '[e["outcome"] for e in j["executions"]]')"
  [ "$(jget "$ci" 'j["executions"][0]["output"]')" = $((k * k)) ] || fail "child $c: wrong output"
  [ "$(wc -l <"$gate/$c.runs")" = 1 ] || fail "child $c ran $(wc -l <"$gate/$c.runs") times"
  [ "$(jget "$ci" 'j["cancellation_request_time"]')" = null ] ||
    fail "child $c got a cancellation request"
done
pass "all $N children SUCCEEDED once, with parent_invocation = $parent"

# The list filter by parent finds exactly these children.
list=$(api GET "$LC_BASE/functions/square/invocations?parent_function_name=sum&parent_invocation_id=$parent&max_results=50")
[ "$(last_status)" = 200 ] || fail "list by parent: HTTP $(last_status) $list"
[ "$(jget "$list" 'sorted(i["invocation_id"] for i in j["invocations"])')" = "$(python3 -c 'import json,sys; print(json.dumps(sorted(sys.argv[1:])))' "${children[@]}")" ] ||
  fail "list by parent: $list"
pass "listing square's invocations by parent gives the $N children"

# Progress went through the API: N 'started' + N 'sum so far' updates.
updates=$(grep -c "PUT $LC_BASE/functions/sum/invocations/$parent/executions/[^ ]*/update 200" "$MN_WORK/d.log" || true)
[ "$updates" = $((2 * N)) ] || { grep '/update' "$MN_WORK/d.log" | tail -5; fail "$updates /update requests of the parent in the log, expected $((2 * N))"; }
pass "the daemon served $updates progress updates of the parent"
