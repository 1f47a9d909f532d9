#!/usr/bin/env bash
# Every process a local task starts is gone when its attempt ends, on every
# exit path — success, failure, kill -9 of the worker, timeout, cancel,
# daemon restart — with the per-execution cgroup this machine offers (cgroup
# v2 without controllers: a leaf for each execution all the same), the
# worker's subreaper and the process group (lib_cleanup.sh). Also: the
# worker killed while the daemon is down, which only the cgroup can answer
# for once the daemon is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"
. "$(dirname "$0")/lib_cleanup.sh"

cleanup_suite "    cgroups: true" "cgroup"
grep -q "cleanup: a cgroup per execution" "$MN_WORK/c.log" ||
  fail "this machine offers no cgroup for the workers: $(grep 'limits:' "$MN_WORK/c.log" | tail -1)"

# The worker killed while the daemon is down: the daemon finds it gone at
# its start and kills what the cgroup still holds.
cl_start task
spawner=$(pgrep -P "${MN_PIDS[c]}" -f -- 'multinode-worker --spawner')
[ -n "$spawner" ] || fail "no worker spawner"
daemon_kill c KILL
# with the daemon, its spawner goes (a subreaper that would otherwise take
# the worker's orphans); then the worker
wait_until 10 "the spawner to exit" bash -c "! kill -0 $spawner 2>/dev/null"
kill -9 "$(cat "$CL_GATES/$CL_EXE.worker")"
cl_running "$CL_EXE" || fail "the task's processes died with its worker: the test shows nothing"
daemon_start c
lc_wait_terminated 60 task "$CL_INV"
cl_gone "cgroup daemon down, worker killed" "$CL_EXE"
