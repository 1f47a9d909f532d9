#!/usr/bin/env bash
# `multinode wait` prints only the result on standard output, and the status
# and latest progress on standard error while it waits: a line per change
# when standard error is not a terminal, one line redrawn behind a spinner
# when it is (run under a pseudo-terminal with script(1)).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
daemon_start w
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
mn="$MN_BIN_DIR/multinode"
# each step waits for its go-file, so every progress value is seen
cmd='for s in 1 2; do multinode progress "step $s of 2"; i=0; while [ ! -f "'$MN_WORK'/$MULTINODE_INVOCATION_ID.go$s" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; done; echo "done: $(cat)"'
api PUT /projects/w >/dev/null
body=$(python3 -c 'import json,sys; print(json.dumps({"default_docker_image":"none","functions":[{"function_name":"steps","command":["sh","-c",sys.argv[1]],"resource_spec":{"virtual_cpus":0.5,"memory_gbs":0.5,"max_concurrency":10},"execution_spec":{"max_retries":0,"timeout_seconds":60}}]}))' "$cmd")
api POST /projects/w/versions "$body" >/dev/null
[ "$(last_status)" = 200 ] || fail "cannot deploy"

run_one() { # run_one MODE: starts an invocation, waits for it with MODE, releases steps
  local mode=$1
  id=$("$mn" start --project-name w --input hello steps) || fail "start failed"
  echo "$id" >"$MN_WORK/$mode.id"
  if [ "$mode" = tty ]; then
    script -qec "$mn wait --project-name w --function steps $id 2>&1" /dev/null >"$MN_WORK/$mode.out" &
  else
    "$mn" wait --project-name w --function steps "$id" >"$MN_WORK/$mode.out" 2>"$MN_WORK/$mode.err" &
  fi
  local waiter=$!
  local f=$MN_WORK/$mode.out; [ "$mode" = tty ] || f=$MN_WORK/$mode.err
  wait_until 30 "$mode: step 1 shown" grep -q "step 1 of 2" "$f"
  touch "$MN_WORK/$id.go1"
  wait_until 30 "$mode: step 2 shown" grep -q "step 2 of 2" "$f"
  touch "$MN_WORK/$id.go2"
  wait "$waiter" || fail "$mode: wait exited non-zero for a task that succeeded"
}

run_one plain
[ "$(cat "$MN_WORK/plain.out")" = "done: hello" ] || fail "stdout is not just the result: $(cat "$MN_WORK/plain.out")"
grep -q ": RUNNING - step 1 of 2$" "$MN_WORK/plain.err" || fail "no plain progress line: $(cat "$MN_WORK/plain.err")"
grep -q "SUCCEEDED" "$MN_WORK/plain.err" || fail "no final status line"
grep -q $'\r' "$MN_WORK/plain.err" && fail "carriage returns on a non-terminal"
pass "not a terminal: the result alone on stdout, a line per status or progress on stderr"

run_one tty
grep -q $'\r\033\\[K[|/\\\\-] inv-[0-9a-f]*: RUNNING - step 2 of 2' "$MN_WORK/tty.out" ||
  fail "no spinner line on a terminal: $(od -c "$MN_WORK/tty.out" | head -20)"
grep -q "done: hello" "$MN_WORK/tty.out" || fail "no result on the terminal"
pass "terminal: the progress line is redrawn behind a spinner"

# logs: the execution's log as the worker wrote it, paged; --follow ends
# with the execution
id=$(cat "$MN_WORK/plain.id")
"$mn" logs --project-name w --function steps --max-lines 1 "$id" >"$MN_WORK/logs.out" ||
  fail "multinode logs failed"
grep -q "multinode-worker: started execution" "$MN_WORK/logs.out" || fail "log lacks the worker's start: $(cat "$MN_WORK/logs.out")"
grep -q "recorded outcome SUCCEEDED" "$MN_WORK/logs.out" || fail "log lacks the outcome (paging with 1 line per page stopped early?)"
timeout 30 "$mn" logs --follow --project-name w --function steps "$id" >"$MN_WORK/follow.out" ||
  fail "multinode logs --follow did not end for a finished execution"
cmp -s "$MN_WORK/logs.out" "$MN_WORK/follow.out" || fail "--follow printed other lines than a plain read"
set +e
"$mn" logs --project-name w --function steps --execution-id exe-nope "$id" >/dev/null 2>"$MN_WORK/bad.err"; rc=$?
set -e
[ $rc = 1 ] || fail "logs of an unknown execution: exit $rc, want 1"
grep -q "An execution with this ID does not exist" "$MN_WORK/bad.err" || fail "unclear error: $(cat "$MN_WORK/bad.err")"
pass "logs: paged with 1 line per request, --follow ends with the execution, unknown execution is an error"
