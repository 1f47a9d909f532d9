#!/usr/bin/env bash
# The examples (examples/*) end to end against a real daemon with the local
# provider, deployed with `multinode deploy` as a user would:
#  - expensive_task: the manifest's settings reach the server; the C app
#    (expensive-task-app) runs the task to SUCCEEDED with result 9592 (the
#    primes below 100000), then starts a big run, sees it RUNNING, cancels
#    it and sees CANCELLED; the cancelled execution was ABORTED by SIGTERM;
#  - montecarlo: estimate_pi with N=8 starts 8 `sample` children (parent =
#    the estimate_pi invocation), combines them into pi within 0.3, records
#    progress; a bad input fails with the script's message.
# The example folders are copied into $MN_WORK first: the workers' command
# lines then name $MN_WORK, so the cleanup finds any worker left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
: "${MN_SOURCE_DIR:?}"
mn=$MN_BIN_DIR/multinode
app=$MN_BIN_DIR/expensive-task-app
for b in "$mn" "$app" "$MN_BIN_DIR/multinoded" "$MN_BIN_DIR/multinode-worker"; do
  [ -x "$b" ] || fail "$b is not built"
done

export HOME=$MN_WORK
unset MULTINODE_PROJECT_NAME MULTINODE_VERSION_ID MULTINODE_FUNCTION_NAME \
  MULTINODE_INVOCATION_ID MULTINODE_EXECUTION_ID
cp -r "$MN_SOURCE_DIR/examples/expensive_task" "$MN_SOURCE_DIR/examples/montecarlo" "$MN_WORK/"
for f in README.md multinode.yaml; do
  for e in expensive_task montecarlo; do
    [ -s "$MN_WORK/$e/$f" ] || fail "examples/$e/$f is missing"
  done
done

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- daemon
daemon_config main "scheduler:
  termination_grace_seconds: 1s"
daemon_start main
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY

# ------------------------------------------------------- expensive_task
# the task script by hand: progress on stderr, the count on stdout
out=$(echo 1000 | sh "$MN_WORK/expensive_task/task.sh" 2>"$MN_WORK/task.err") ||
  fail "task.sh by hand: $(cat "$MN_WORK/task.err")"
[ "$out" = 168 ] || fail "task.sh counted $out primes below 1000, want 168"
grep -qx "chunk 10/10: 168 primes below 1000" "$MN_WORK/task.err" ||
  fail "task.sh progress: $(cat "$MN_WORK/task.err")"

v=$("$mn" deploy "$MN_WORK/expensive_task" --project-name expensive-task 2>"$MN_WORK/err") ||
  fail "deploy expensive_task: $(cat "$MN_WORK/err")"
[[ $v == ver-* ]] || fail "deploy printed \"$v\""
fn=$(api GET /projects/expensive-task/versions/latest | jq -c '.functions[0]')
jq -e --arg d "$MN_WORK/expensive_task" '.function_name == "run_expensive_task" and
  .docker_image == "multinode-worker:local" and
  .resource_spec == {"virtual_cpus": 4, "memory_gbs": 16, "max_concurrency": 10} and
  .execution_spec == {"max_retries": 1, "timeout_seconds": 3600} and
  .command == ["sh", ($d + "/task.sh")]' <<<"$fn" >/dev/null || fail "run_expensive_task: $fn"
pass "expensive_task deployed as $v: 4 cpu, 16 GiB, 1 retry, 10 concurrent, 1h"

t0=$(ms)
"$app" expensive-task >"$MN_WORK/app.out" 2>"$MN_WORK/app.err" ||
  fail "expensive-task-app failed:
$(cat "$MN_WORK/app.out" "$MN_WORK/app.err")"
took=$(( $(ms) - t0 ))
cat "$MN_WORK/app.out"
first=$(sed -n 's/^started run_expensive_task(100000): \(inv-[0-9a-f]*\)$/\1/p' "$MN_WORK/app.out")
second=$(sed -n 's/^started run_expensive_task(200000000): \(inv-[0-9a-f]*\)$/\1/p' "$MN_WORK/app.out")
[[ ${#first} == 36 && ${#second} == 36 ]] || fail "app did not print the two invocation ids"
# the printed lines, in order
grep -x -e "status: SUCCEEDED" -e "result: 9592" -e "  $second: RUNNING" \
  -e "cancelling $second" -e "status: CANCELLED" "$MN_WORK/app.out" >"$MN_WORK/app.lines" || true
printf '%s\n' "status: SUCCEEDED" "result: 9592" "  $second: RUNNING" "cancelling $second" \
  "status: CANCELLED" | diff - "$MN_WORK/app.lines" >/dev/null ||
  fail "app output lacks SUCCEEDED, result 9592, RUNNING, cancelling, CANCELLED in order"
grep -q "^  $first: SUCCEEDED" "$MN_WORK/app.out" || fail "no status change to SUCCEEDED shown"
echo "(the app took ${took} ms)"

base=/projects/expensive-task/versions/latest/functions/run_expensive_task/invocations
is_terminated() { [ "$(api GET "$base/$1" | jq -r .invocation_status)" = TERMINATED ]; }
wait_until 30 "the cancelled invocation terminated" is_terminated "$second"
inv=$(api GET "$base/$second")
jq -e '.cancellation_request_time != null and (.executions | length == 1) and
  .executions[0].outcome == "ABORTED" and .executions[0].execution_start_time != null' \
  <<<"$inv" >/dev/null || fail "the cancelled invocation: $inv"
inv=$(api GET "$base/$first")
jq -e '(.executions | length == 1) and .executions[0].outcome == "SUCCEEDED" and
  .executions[0].output == "9592"' <<<"$inv" >/dev/null || fail "the first invocation: $inv"
pass "expensive-task-app: SUCCEEDED with 9592, then CANCELLED while RUNNING (ABORTED)"

# ------------------------------------------------------------ montecarlo
v=$("$mn" deploy "$MN_WORK/montecarlo" --project-name montecarlo 2>"$MN_WORK/err") ||
  fail "deploy montecarlo: $(cat "$MN_WORK/err")"
[[ $v == ver-* ]] || fail "deploy printed \"$v\""
pass "montecarlo deployed as $v"

N=8
t0=$(ms)
id=$("$mn" start estimate_pi --project-name montecarlo --input $N) || fail "start estimate_pi"
pi=$("$mn" wait --quiet --timeout 60s --project-name montecarlo --function estimate_pi "$id" \
  2>"$MN_WORK/err") || fail "estimate_pi did not succeed: $(cat "$MN_WORK/err")"
took=$(( $(ms) - t0 ))
echo "estimate_pi($N) = $pi in ${took} ms"
[[ $pi =~ ^[0-9]+\.[0-9]+$ ]] || fail "estimate_pi printed \"$pi\", want a number"
awk -v p="$pi" 'BEGIN { d = p - 3.14159; exit !(d < 0.3 && d > -0.3) }' ||
  fail "estimate_pi = $pi, not within 0.3 of 3.14159"

fbase=/projects/montecarlo/versions/latest/functions
kids=$(api GET "$fbase/sample/invocations?parent_function_name=estimate_pi&parent_invocation_id=$id")
[ "$(last_status)" = 200 ] || fail "listing the children: $(last_status) $kids"
n=$(jq '.invocations | length' <<<"$kids")
[ "$n" = $N ] || fail "estimate_pi had $n children, want $N: $kids"
total_inside=0
for kid in $(jq -r '.invocations[].invocation_id' <<<"$kids"); do
  k=$(api GET "$fbase/sample/invocations/$kid")
  jq -e --arg p "$id" '.parent_invocation.invocation_id == $p and
    .parent_invocation.function_name == "estimate_pi" and
    ([.executions[] | select(.outcome == "SUCCEEDED")] | length == 1)' <<<"$k" >/dev/null ||
    fail "child $kid: $k"
  result=$(jq -r '[.executions[] | select(.outcome == "SUCCEEDED")][0].output' <<<"$k")
  [[ $result =~ ^([0-9]+)\ 200000$ ]] || fail "child $kid result \"$result\""
  total_inside=$((total_inside + BASH_REMATCH[1]))
done
want=$(awk -v i=$total_inside -v t=$((N * 200000)) 'BEGIN { printf "%.6f", 4 * i / t }')
[ "$pi" = "$want" ] || fail "estimate_pi = $pi, but its children's counts give $want"
pass "estimate_pi($N) = $pi from $N children (their counts combined), ${took} ms"

# (estimate_pi runs with `set -e`: its success also says every `multinode
# progress` along the way was accepted.) A bad input: the script's message
# is the error.
bad=$("$mn" start estimate_pi --project-name montecarlo --input 0) || fail "start bad"
run_rc=0
"$mn" wait --quiet --timeout 60s --project-name montecarlo --function estimate_pi "$bad" \
  >"$MN_WORK/out" 2>"$MN_WORK/err" || run_rc=$?
[ "$run_rc" = 1 ] || fail "estimate_pi(0): wait exited $run_rc: $(cat "$MN_WORK/err")"
grep -q "FAILED: the number of samples must be from 1 to 50, got 0" "$MN_WORK/err" ||
  fail "estimate_pi(0): $(cat "$MN_WORK/err")"
pass "estimate_pi(0) FAILED with the script's message"

for p in expensive-task montecarlo; do
  "$mn" undeploy --project-name $p >/dev/null || fail "undeploy $p"
done
pass "both examples undeployed"
