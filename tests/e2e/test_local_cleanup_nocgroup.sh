#!/usr/bin/env bash
# As test_local_cleanup_cgroup.sh, with `cgroups: false`: no cgroup holds
# the task, so only the worker's child subreaper and the process group (and
# the spawner, a subreaper too, when the worker is killed outright) end
# what the task started.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"
. "$(dirname "$0")/lib_cleanup.sh"

cleanup_suite "    cgroups: false" "no cgroup"
grep -q "cleanup: the worker's subreaper and process group (no cgroup: cgroups: false)" \
  "$MN_WORK/c.log" || fail "the daemon used a cgroup: $(grep 'limits:' "$MN_WORK/c.log" | tail -1)"
