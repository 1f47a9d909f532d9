#!/usr/bin/env bash
# multinode-worker against a real daemon (its embedded Postgres): the worker
# protocol of docs/architecture.md §6 / docs/compatibility.md §4. Executions are inserted with psql
# into the daemon's database, as the scheduler's launch protocol would
# write them, and multinode-worker runs shell commands for them:
#  - input on stdin, stdout the output (one trailing newline removed);
#  - exit != 0: FAILED with the stderr tail (or the exit status) as error,
#    or with what the command wrote to its report pipe (fd 3);
#  - MULTINODE_TIMEOUT_AT in the command's environment;
#  - output of 250000 characters: FAILED, never sent;
#  - SIGTERM forwarded to the command's process group: ABORTED;
#  - a second worker for the same execution gets 409 and runs nothing;
#  - the daemon down at start, or restarted while the command runs: the
#    result still lands;
#  - progress through `multinode progress` and through worker.h (C);
#  - a finish refused with 409 (terminated meanwhile) ends the worker.
. "$(dirname "$0")/lib.sh"

worker=$MN_BIN_DIR/multinode-worker
demo=$MN_BIN_DIR/multinode-worker-demo
cli=$MN_BIN_DIR/multinode
for b in "$MN_BIN_DIR/multinoded" "$worker" "$demo" "$cli"; do
  [ -x "$b" ] || fail "$b is not built"
done

work=$(new_workdir)
port=$(free_port)
export MN_KEY=worker-e2e-key
cat >"$work/multinode.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  api_key: $MN_KEY
data_dir: $work/data
# the test writes executions itself: no scheduler may act on them
scheduler:
  enabled: false
YAML
url=http://127.0.0.1:$port
daemon_pid=
bg_pids=()

pg_pid() { head -n1 "$work/data/postgres/data/postmaster.pid" 2>/dev/null; }
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
  p=$(pg_pid || true)
  [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_daemon() {
  "$MN_BIN_DIR/multinoded" --config "$work/multinode.yaml" >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  wait_for 60 bash -c "curl -sf $url/ || ! kill -0 $daemon_pid" &&
    kill -0 "$daemon_pid" 2>/dev/null ||
    { tail -n 50 "$work/daemon.log"; fail "daemon not healthy"; }
}
stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || true
  daemon_pid=
  ! curl -sf "$url/" >/dev/null 2>&1 || fail "daemon still answering after stop"
}

# SQL on the daemon's embedded database; socket dir and port come from
# postmaster.pid (lines 5 and 4), the database is "multinode".
sql() {
  local pidfile=$work/data/postgres/data/postmaster.pid
  local sock port_pg
  sock=$(sed -n 5p "$pidfile") port_pg=$(sed -n 4p "$pidfile")
  psql -X -q -A -t -v ON_ERROR_STOP=1 \
    "host=$sock port=$port_pg dbname=multinode user=${MN_PG_USER:-postgres}" -c "$1"
}

# call METHOD PATH [BODY]: the body of a 2xx answer, or fail.
call() {
  local out status
  out=$(http "$1" "$url$2" "${3:-}")
  status=${out%% *}
  [ "${status:0:1}" = 2 ] || fail "$1 $2 answered $out"
  printf '%s' "${out#* }"
}

hex32() { head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# ---------------------------------------------------------------- set-up
start_daemon
project=worker-e2e
call PUT "/projects/$project" >/dev/null
version=$(call POST "/projects/$project/versions" '{"default_docker_image": "unused",
  "functions": [{"function_name": "fn",
    "resource_spec": {"virtual_cpus": 0.25, "memory_gbs": 0.5, "max_concurrency": 10},
    "execution_spec": {"max_retries": 0, "timeout_seconds": 3600}}]}' | jq -r .version_id)
[[ $version == ver-* ]] || fail "no version id"
base=/projects/$project/versions/$version/functions/fn
export MULTINODE_API_URL=$url MULTINODE_API_KEY=$MN_KEY MULTINODE_PROJECT_NAME=$project \
  MULTINODE_VERSION_ID=$version MULTINODE_FUNCTION_NAME=fn
pass "daemon up, project $project version $version"

# new_execution INPUT: a new invocation with INPUT and one execution row
# (RUNNING, as after a launch); sets inv, exe and exports them for workers.
new_execution() {
  local now
  # through a file: a 200000-character input is too long for one argument
  printf '%s' "$1" | jq -Rs '{input: .}' >"$work/body.json"
  inv=$(curl -sf -X POST -H "Authorization: Bearer $MN_KEY" -H 'Content-Type: application/json' \
    --data-binary "@$work/body.json" "$url$base/invocations" | jq -r .invocation_id)
  [[ $inv == inv-* ]] || fail "no invocation id"
  exe=exe-$(hex32)
  now=$(date +%s%6N)
  sql "INSERT INTO executions (project_name, version_id, function_name, invocation_id,
         execution_id, worker_status, creation_time, last_update_time)
       VALUES ('$project', '$version', 'fn', '$inv', '$exe', 'RUNNING', $now, $now)" ||
    fail "cannot insert execution $exe"
  export MULTINODE_INVOCATION_ID=$inv MULTINODE_EXECUTION_ID=$exe
}

# field NAME: a field of the current execution (ExecutionInfo), JSON-encoded.
execution() { call GET "$base/invocations/$inv/executions/$exe"; }
field() { execution | jq -c ".$1"; }
expect_field() {
  local got; got=$(field "$1")
  [ "$got" = "$2" ] || fail "$3: $1 is $got, expected $2"
}

# run_worker LOG CMD...: the worker in the foreground, bounded in time;
# prints its exit status.
run_worker() {
  local log=$1; shift
  local rc=0
  timeout 120 "$worker" "$@" 2>"$log" || rc=$?
  echo "$rc"
}

# ------------------------------------------------------------- the cases
# 1. Success: input on stdin; stdout is the output minus one newline.
new_execution "hello stdin"
rc=$(run_worker "$work/w1.log" sh -c 'printf "got:"; cat; printf "\n\n"; echo "to the log" >&2')
[ "$rc" = 0 ] || { cat "$work/w1.log"; fail "worker exited $rc on success"; }
expect_field outcome '"SUCCEEDED"' success
expect_field output '"got:hello stdin\n"' success
expect_field error_message null success
[ "$(field execution_start_time)" != null ] || fail "success: execution_start_time not set"
[ "$(field execution_finish_time)" != null ] || fail "success: execution_finish_time not set"
grep -q '^to the log$' "$work/w1.log" || fail "stderr of the command not passed to the worker's log"
grep -q '^multinode-worker: recorded outcome SUCCEEDED$' "$work/w1.log" ||
  fail "no 'recorded outcome' log line"
pass "success: stdin gets the input, output has one trailing newline removed"

# Input of 200000 characters, not all of it read by a command that exits at once.
big_input=$(head -c 200000 /dev/zero | tr '\0' 'i')
new_execution "$big_input"
rc=$(run_worker "$work/w1b.log" wc -c)
[ "$rc" = 0 ] || fail "worker exited $rc"
[ "$(field output | tr -d '" ')" = 200000 ] || fail "wc -c of the input: $(field output)"
new_execution "$big_input"
rc=$(run_worker "$work/w1c.log" sh -c 'echo early')
[ "$rc" = 0 ] || fail "worker exited $rc when the command did not read its input"
expect_field output '"early"' "unread input"
pass "large input: delivered whole; a command that does not read it does not break the worker"

# 2. Failure: the stderr tail is the error message.
new_execution ""
rc=$(run_worker "$work/w2.log" sh -c 'echo "first line" >&2; echo "last line" >&2; echo out; exit 3')
[ "$rc" = 0 ] || fail "worker exited $rc on a recorded failure"
expect_field outcome '"FAILED"' failure
expect_field error_message '"first line\nlast line"' failure
pass "failure: error_message is the stderr tail"

# A long stderr: the tail is kept, under the 16384-character limit.
new_execution ""
rc=$(run_worker "$work/w2b.log" sh -c 'head -c 100000 /dev/zero | tr "\0" "e" >&2; printf "\nTHE END\n" >&2; exit 1')
[ "$rc" = 0 ] || fail "worker exited $rc"
expect_field outcome '"FAILED"' "long stderr"
msg_len=$(field error_message | jq -r 'length')
[ "$msg_len" -lt 16384 ] && [ "$msg_len" -gt 16000 ] || fail "tail length $msg_len"
[ "$(field error_message | jq -r '.[-8:]')" = "
THE END" ] || fail "tail does not end with the last line"
pass "failure: a 100 KB stderr leaves a $msg_len-character tail ending with its last line"

new_execution ""
rc=$(run_worker "$work/w2c.log" sh -c 'exit 7')
expect_field error_message '"exited with code 7"' "silent failure"
new_execution ""
rc=$(run_worker "$work/w2d.log" sh -c 'kill -KILL $$')
expect_field error_message '"killed by signal 9"' "killed"
new_execution ""
rc=$(run_worker "$work/w2e.log" no-such-command-here)
[ "$rc" = 0 ] || fail "worker exited $rc"
expect_field error_message '"cannot run \"no-such-command-here\": No such file or directory"' \
  "missing command"
pass "failure without stderr: exit code, signal, missing command"

# The report pipe (fd 3, named by MULTINODE_REPORT_FD): a runtime's own
# error message wins over its stderr; MULTINODE_TIMEOUT_AT is the
# invocation's creation plus timeout_seconds.
new_execution ""
rc=$(run_worker "$work/w2f.log" sh -c '[ "$MULTINODE_REPORT_FD" = 3 ] || exit 9
  echo "Traceback: lots of lines" >&2
  printf "{\"error_message\": \"ValueError: mine\"}\n" >&"$MULTINODE_REPORT_FD"; exit 1')
[ "$rc" = 0 ] || fail "worker exited $rc"
expect_field error_message '"ValueError: mine"' "reported error"
new_execution ""
rc=$(run_worker "$work/w2g.log" sh -c 'echo "$MULTINODE_TIMEOUT_AT"')
created=$(call GET "$base/invocations/$inv" | jq .creation_time)
expect_field output "\"$((created + 3600))\"" "MULTINODE_TIMEOUT_AT"
pass "report pipe: the command's own error message; MULTINODE_TIMEOUT_AT = creation + timeout"

# 3. Output limit: 249999 characters pass, 250000 fail with a clear message.
new_execution ""
rc=$(run_worker "$work/w3.log" sh -c 'head -c 249999 /dev/zero | tr "\0" x; echo')
[ "$rc" = 0 ] || fail "worker exited $rc"
expect_field outcome '"SUCCEEDED"' "249999 characters"
[ "$(field output | jq -r length)" = 249999 ] || fail "249999-character output not kept whole"
new_execution ""
rc=$(run_worker "$work/w3b.log" sh -c 'head -c 250000 /dev/zero | tr "\0" x')
[ "$rc" = 0 ] || fail "worker exited $rc"
expect_field outcome '"FAILED"' "oversized output"
expect_field error_message '"output is 250000 characters; the limit is 249999"' "oversized output"
pass "output limit: 249999 characters recorded, 250000 FAILED with a clear message"

# 4. SIGTERM: forwarded to the command's process group -> ABORTED.
new_execution ""
"$worker" sh -c "sleep 300 & echo \$! > $work/sleep.pid; wait" 2>"$work/w4.log" &
wpid=$!; bg_pids+=("$wpid")
wait_for 30 test -s "$work/sleep.pid" || fail "the command did not start"
kill -TERM "$wpid"
wait_for 30 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker still running after SIGTERM"
rc=0; wait "$wpid" || rc=$?
[ "$rc" = 0 ] || { cat "$work/w4.log"; fail "worker exited $rc after an abort"; }
expect_field outcome '"ABORTED"' SIGTERM
wait_for 10 bash -c "! kill -0 $(cat "$work/sleep.pid") 2>/dev/null" ||
  fail "the command's child survived: the signal did not reach its process group"
grep -q 'forwarding SIGTERM' "$work/w4.log" || fail "no forwarding log line"
pass "SIGTERM: forwarded to the whole process group, outcome ABORTED"

# A command that catches it and exits 0: ABORTED with its output.
new_execution ""
"$worker" sh -c "trap 'echo cleaned up; exit 0' TERM; touch $work/trap.ready; while :; do sleep 0.05; done" \
  2>"$work/w4b.log" &
wpid=$!; bg_pids+=("$wpid")
wait_for 30 test -f "$work/trap.ready" || fail "the trapping command did not start"
kill -TERM "$wpid"
wait_for 30 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker still running"
expect_field outcome '"ABORTED"' "caught SIGTERM"
expect_field output '"cleaned up"' "caught SIGTERM"
# ...and one that fails in its clean-up: FAILED.
new_execution ""
"$worker" sh -c "trap 'echo cleanup failed >&2; exit 4' TERM; touch $work/trap2.ready; while :; do sleep 0.05; done" \
  2>"$work/w4c.log" &
wpid=$!; bg_pids+=("$wpid")
wait_for 30 test -f "$work/trap2.ready" || fail "the trapping command did not start"
kill -TERM "$wpid"
wait_for 30 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker still running"
expect_field outcome '"FAILED"' "failed clean-up"
# (the shell may first report its killed sleep: "Terminated")
[ "$(field error_message | jq 'endswith("cleanup failed")')" = true ] ||
  fail "failed clean-up: error_message is $(field error_message)"
pass "SIGTERM caught: exit 0 is ABORTED (with output), exit 4 is FAILED"

# 5. A second worker for the same execution: 409, the command does not run.
new_execution ""
count=$work/count
rc=$(run_worker "$work/w5.log" sh -c "echo ran >> $count; echo first")
[ "$rc" = 0 ] || fail "first worker exited $rc"
rc=$(run_worker "$work/w5b.log" sh -c "echo ran >> $count; echo second")
[ "$rc" = 0 ] || { cat "$work/w5b.log"; fail "second worker exited $rc, expected 0"; }
[ "$(wc -l <"$count")" = 1 ] || fail "the command ran $(wc -l <"$count") times"
grep -q '^multinode-worker: not running the command: This execution has already started' \
  "$work/w5b.log" || { cat "$work/w5b.log"; fail "second worker did not say why it stopped"; }
expect_field output '"first"' "second worker"
pass "second worker: 409, exits 0, the command ran once"

# 6. Missing environment / command: exit 2 with a clear message, nothing runs.
rc=0; env -u MULTINODE_EXECUTION_ID "$worker" sh -c "echo ran >> $count" 2>"$work/w6.log" || rc=$?
[ "$rc" = 2 ] || fail "missing env: exit $rc"
grep -q 'MULTINODE_EXECUTION_ID is not set' "$work/w6.log" || fail "missing env: no message"
rc=0; "$worker" 2>"$work/w6b.log" || rc=$?
[ "$rc" = 2 ] || fail "no command: exit $rc"
grep -q 'no command to run' "$work/w6b.log" || fail "no command: no message"
# A daemon that never answers: non-zero once the retry deadline passes.
new_execution ""
rc=0
MULTINODE_API_URL=http://127.0.0.1:$(free_port) MULTINODE_WORKER_RETRY_SECONDS=2 \
  timeout 60 "$worker" sh -c "echo ran >> $count" 2>"$work/w6c.log" || rc=$?
[ "$rc" = 1 ] || fail "unreachable daemon: exit $rc, expected 1"
[ "$(wc -l <"$count")" = 1 ] || fail "a command ran without a successful start"
pass "usage errors exit 2; an unreachable daemon exits 1 without running anything"

# 7. Progress: `multinode progress` from a shell command, and worker.h from C.
new_execution ""
"$worker" sh -c "\"$cli\" progress halfway && touch $work/p.ready &&
  while [ ! -f $work/p.go ]; do sleep 0.05; done; echo done" 2>"$work/w7.log" &
wpid=$!; bg_pids+=("$wpid")
wait_for 30 test -f "$work/p.ready" || { cat "$work/w7.log"; fail "multinode progress failed"; }
expect_field output '"halfway"' "progress while running"
touch "$work/p.go"
wait_for 30 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker still running"
expect_field output '"done"' "after progress"
new_execution "progress from C"
rc=$(run_worker "$work/w7b.log" "$demo")
[ "$rc" = 0 ] || fail "worker exited $rc"
expect_field outcome '"SUCCEEDED"' "C progress"
expect_field output '"from C"' "C progress (null final output keeps the progress)"
new_execution "echo result from C"
rc=$(run_worker "$work/w7c.log" "$demo")
expect_field output '"result from C"' "C result"
new_execution "child fn"
rc=$(run_worker "$work/w7d.log" "$demo")
child=$(field output | jq -r .)
[[ $child == inv-* ]] || fail "C child: output $child"
parent=$(call GET "$base/invocations/$child" | jq -c '.parent_invocation | [.function_name, .invocation_id]')
[ "$parent" = "[\"fn\",\"$inv\"]" ] || fail "child's parent is $parent"
new_execution "fail from C"
rc=$(run_worker "$work/w7e.log" "$demo")
expect_field error_message '"from C"' "C failure"
pass "progress via the CLI and worker.h; C result, child invocation and failure"

# 8. The daemon is down when the worker starts: it retries until it is back.
new_execution "retry me"
stop_daemon
"$worker" sh -c 'cat; echo " after restart"' 2>"$work/w8.log" &
wpid=$!; bg_pids+=("$wpid")
sleep 2 # the daemon stays down while the worker retries
kill -0 "$wpid" || { cat "$work/w8.log"; fail "worker gave up while the daemon was down"; }
start_daemon
wait_for 60 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker did not finish after the restart"
rc=0; wait "$wpid" || rc=$?
[ "$rc" = 0 ] || { cat "$work/w8.log"; fail "worker exited $rc"; }
expect_field outcome '"SUCCEEDED"' "daemon down at start"
expect_field output '"retry me after restart"' "daemon down at start"
pass "daemon down at start: the worker waited and the result landed"

# 9. The daemon restarts while the command runs: /finish retries.
new_execution ""
"$worker" sh -c "touch $work/r.ready; while [ ! -f $work/r.go ]; do sleep 0.05; done; echo survived" \
  2>"$work/w9.log" &
wpid=$!; bg_pids+=("$wpid")
wait_for 30 test -f "$work/r.ready" || fail "the command did not start"
stop_daemon
touch "$work/r.go"
wait_for 30 grep -q 'the command exited with code 0' "$work/w9.log" || fail "the command did not end"
sleep 2 # /finish is now retrying against the stopped daemon
kill -0 "$wpid" || { cat "$work/w9.log"; fail "worker gave up while the daemon was down"; }
start_daemon
wait_for 60 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker did not finish after the restart"
rc=0; wait "$wpid" || rc=$?
[ "$rc" = 0 ] || { cat "$work/w9.log"; fail "worker exited $rc"; }
expect_field outcome '"SUCCEEDED"' "daemon restarted mid-run"
expect_field output '"survived"' "daemon restarted mid-run"
pass "daemon restarted while the command ran: /finish retried and the result landed"

# 10. The execution was terminated meanwhile: /finish answers 409, which the
# worker logs and ends on, non-zero (it could not report).
new_execution ""
"$worker" sh -c "touch $work/t.ready; while [ ! -f $work/t.go ]; do sleep 0.05; done; echo late" \
  2>"$work/w10.log" &
wpid=$!; bg_pids+=("$wpid")
wait_for 30 test -f "$work/t.ready" || fail "the command did not start"
sql "UPDATE executions SET worker_status = 'TERMINATED' WHERE execution_id = '$exe'"
touch "$work/t.go"
wait_for 30 bash -c "! kill -0 $wpid 2>/dev/null" || fail "worker still running"
rc=0; wait "$wpid" || rc=$?
[ "$rc" = 1 ] || { cat "$work/w10.log"; fail "worker exited $rc after a refused finish"; }
grep -q 'the daemon refused outcome SUCCEEDED: This execution has already terminated' \
  "$work/w10.log" || { cat "$work/w10.log"; fail "no log line for the refused finish"; }
expect_field outcome null "terminated meanwhile"
pass "terminated meanwhile: /finish 409 is logged, the worker exits 1"

stop_daemon
pass "all worker protocol checks passed"
