# Process cleanup on every exit path of an attempt (test_local_cleanup_*.sh).
# Source after lib.sh, lib_daemon.sh and lib_lifecycle.sh; call
# cleanup_suite "EXTRA_PROVIDER_YAML" "LABEL".
#
# Every task runs cleanup_script: it marks itself (MN_CLEANUP_MARK, the
# execution id, inherited by all it starts), starts four processes that try
# to outlive it — double-forked `(sleep 299 &)`, `setsid sleep 298 &` (a
# session of its own), a child that ignores SIGTERM and SIGHUP, and a
# grandchild behind a `wait` — writes its worker's pid and "started" to the
# gate folder, then waits (bounded) for a go file and exits with the code it
# holds. A process of the task is any live process whose environment holds
# the mark; the test first sees them running, then none once the attempt
# has ended.
: "${MN_WORK:?source lib_daemon.sh first}"

CL_GATES=$MN_WORK/gates
mkdir -p "$CL_GATES"
chmod 1777 "$CL_GATES" # the workers are not root

# The task: touches $CL_GATES/<execution>.started, waits for .go (whose
# content is the exit code).
cleanup_script() {
  printf '%s' "export MN_CLEANUP_MARK=\$MULTINODE_EXECUTION_ID; g=$CL_GATES/\$MULTINODE_EXECUTION_ID; \
(sleep 299 &); setsid sleep 298 & \
( trap '' TERM HUP; exec sleep 297 ) & \
sh -c 'sleep 296 & wait' & \
echo \$PPID >\$g.worker; touch \$g.started; \
i=0; while [ ! -f \$g.go ] && [ \$i -lt 600 ]; do sleep 0.2; i=\$((i+1)); done; \
exit \$(cat \$g.go 2>/dev/null || echo 9)"
}

# The live processes (pid list) that carry the mark of execution $1. One
# grep reads every environment (a scan that forked per process took seconds
# on a machine where an exec costs 3 ms, longer than the 4 s task it looked
# for); zombies are left out.
cl_procs() {
  local f pid stat out=""
  for f in $(grep -lzxF -- "MN_CLEANUP_MARK=$1" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/environ}
    stat=$(<"/proc/$pid/stat") 2>/dev/null || continue
    stat=${stat##*) } # the state follows the command's name, which may hold spaces
    [ "${stat%% *}" = Z ] || out="$out $pid"
  done
  echo "${out# }"
}
cl_count() { local p; p=$(cl_procs "$1"); set -- $p; echo $#; }
cl_none() { [ -z "$(cl_procs "$1")" ]; }
cl_running() { [ "$(cl_count "$1")" -ge 5 ]; } # sh + the four it started (+ their children)

# The id of execution number $3 (0-based) of invocation $2 of function $1.
cl_exec() { lc_field "$1" "$2" "j['executions'][$3]['execution_id'] if len(j['executions']) > $3 else ''"; }
cl_has_exec() { [ -n "$(cl_exec "$1" "$2" "$3")" ]; }
cl_exec_ended() {
  [ "$(lc_field "$1" "$2" "j['executions'][$3]['worker_status']")" = TERMINATED ]
}

# cl_start FN [timed]: starts an invocation, waits for its first attempt's
# task to have started everything (it writes .started after starting its four
# processes) and for the test to see them; sets CL_INV and CL_EXE. With
# "timed" (a task with a short timeout) the attempt may already have been
# ended by its timeout when the test looks, on a loaded machine: then the
# check that nothing is left is what remains.
cl_start() {
  CL_INV=$(lc_start "$1")
  wait_until 60 "an execution of $CL_INV" cl_has_exec "$1" "$CL_INV" 0
  CL_EXE=$(cl_exec "$1" "$CL_INV" 0)
  wait_until 60 "$CL_EXE to start its processes" test -f "$CL_GATES/$CL_EXE.started"
  if [ "${2:-}" = timed ]; then
    wait_until 60 "the processes of $CL_EXE, or its end" cl_running_or_ended "$1" "$CL_INV" "$CL_EXE"
  else
    wait_until 60 "the processes of $CL_EXE" cl_running "$CL_EXE"
  fi
}
cl_running_or_ended() { # FN INV EXE
  cl_running "$3" || { cl_exec_ended "$1" "$2" 0 && echo "note: $3 ended before the test saw its processes"; }
}

# cl_gone LABEL EXE: once the attempt has ended, nothing of it is left.
# The attempt ends when the worker has reported (or been found gone); the
# kills are sent by then, so 2 s is only for SIGKILL to be delivered.
cl_gone() {
  wait_for 2 cl_none "$2" || fail "$1: processes of $2 outlived the attempt: $(cl_procs "$2" |
    xargs -r ps -o pid,user,pgid,sid,args -p)"
  pass "$1: nothing of $2 is left"
}

cleanup_suite() {
  local extra=$1 label=$2 fns
  daemon_config c "$LC_SCHED_YAML
providers:
  local:
$extra"
  daemon_start c
  fns="[$(lc_fn task "$(cleanup_script)" 10 0 600),$(lc_fn retried "$(cleanup_script)" 10 1 600),$(lc_fn slow "$(cleanup_script)" 10 0 8)]"
  lc_deploy "cleanup" "$fns"

  # success
  cl_start task
  echo 0 >"$CL_GATES/$CL_EXE.go"
  lc_wait_terminated 60 task "$CL_INV"
  [ "$(lc_outcomes task "$CL_INV")" = SUCCEEDED ] || fail "success: $(lc_outcomes task "$CL_INV")"
  cl_gone "$label success" "$CL_EXE"

  # failure
  cl_start task
  echo 3 >"$CL_GATES/$CL_EXE.go"
  lc_wait_terminated 60 task "$CL_INV"
  [ "$(lc_outcomes task "$CL_INV")" = FAILED ] || fail "failure: $(lc_outcomes task "$CL_INV")"
  cl_gone "$label failure" "$CL_EXE"

  # kill -9 of the worker: the attempt fails, the retry runs alone
  cl_start retried
  local first=$CL_EXE worker
  worker=$(cat "$CL_GATES/$first.worker")
  kill -9 "$worker"
  wait_until 60 "the attempt $first to end" cl_exec_ended retried "$CL_INV" 0
  cl_gone "$label kill -9 of the worker" "$first"
  wait_until 60 "a retry of $CL_INV" cl_has_exec retried "$CL_INV" 1
  local second
  second=$(cl_exec retried "$CL_INV" 1)
  wait_until 60 "the retry $second to start" test -f "$CL_GATES/$second.started"
  cl_none "$first" || fail "processes of $first run beside the retry"
  echo 0 >"$CL_GATES/$second.go"
  lc_wait_terminated 60 retried "$CL_INV"
  cl_gone "$label the retry after kill -9" "$second"

  # timeout (8 s): SIGTERM, then SIGKILL after the grace period
  cl_start slow timed
  lc_wait_terminated 60 slow "$CL_INV"
  cl_gone "$label timeout" "$CL_EXE"

  # cancel
  cl_start task
  api PUT "$LC_BASE/functions/task/invocations/$CL_INV/cancel" >/dev/null
  [ "$(last_status)" = 200 ] || fail "cancel: HTTP $(last_status)"
  lc_wait_terminated 60 task "$CL_INV"
  cl_gone "$label cancel" "$CL_EXE"

  # daemon restart: killed outright while the task runs; the task then ends
  cl_start task
  daemon_kill c KILL
  daemon_start c
  echo 0 >"$CL_GATES/$CL_EXE.go"
  lc_wait_terminated 60 task "$CL_INV"
  [ "$(lc_outcomes task "$CL_INV")" = SUCCEEDED ] || fail "restart: $(lc_outcomes task "$CL_INV")"
  cl_gone "$label daemon restart, then the task ends" "$CL_EXE"

  # daemon restart, then a cancel (the worker is no longer the daemon's child)
  cl_start task
  daemon_kill c KILL
  daemon_start c
  api PUT "$LC_BASE/functions/task/invocations/$CL_INV/cancel" >/dev/null
  lc_wait_terminated 60 task "$CL_INV"
  cl_gone "$label daemon restart, then a cancel" "$CL_EXE"
}
