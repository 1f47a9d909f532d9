#!/usr/bin/env bash
# The local provider's worker spawner (plugins/local/zygote.h) with a real
# daemon and the real multinode-worker: workers are forked by one
# `multinode-worker --spawner`, the daemon's child, and show their own
# command line; they get the function's environment and input; a spawner
# killed between invocations or under a running worker is replaced and no
# invocation is lost or runs twice; the spawner ends with the daemon while
# its workers finish their run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
command -v pgrep >/dev/null || fail "pgrep (procps) is needed"
daemon_config s "scheduler:
  termination_grace_seconds: 5"
daemon_start s
dpid=${MN_PIDS[s]}

# The spawner(s) of the daemon: its children running `multinode-worker --spawner`.
spawners() { pgrep -P "$dpid" -f -- 'multinode-worker --spawner' || true; }
one_spawner() { [ "$(spawners | wc -l)" = 1 ]; }
wait_until 30 "the daemon to start its worker spawner" one_spawner
first=$(spawners)

cat >"$MN_WORK/probe.sh" <<SH
me=$MN_WORK/\$MULTINODE_INVOCATION_ID
tr '\0' ' ' </proc/\$PPID/cmdline >"\$me.cmdline"
awk '/^PPid:/ {print \$2}' /proc/\$PPID/status >"\$me.parent"
echo \$PPID >"\$me.worker"
touch "\$me.started"
if [ "\$HOLD" = yes ]; then
  i=0; while [ ! -f "\$me.go" ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
fi
echo "\$GREETING \$(cat)"
SH
fn() { # fn NAME HOLD
  printf '{"function_name":"%s","command":["sh","%s"],"env":{"GREETING":"hello from env","HOLD":"%s"},"resource_spec":{"virtual_cpus":1,"memory_gbs":1,"max_concurrency":10},"execution_spec":{"max_retries":0,"timeout_seconds":120}}' \
    "$1" "$MN_WORK/probe.sh" "$2"
}
api PUT /projects/sp >/dev/null
api POST /projects/sp/versions "{\"default_docker_image\":\"none\",\"functions\":[$(fn probe no),$(fn hold yes)]}" >/dev/null
[ "$(last_status)" = 200 ] || fail "cannot deploy: $(cat "$MN_WORK/.status")"
base=/projects/sp/versions/latest/functions

start() { jget "$(api POST "$base/$1/invocations" "{\"input\":\"$2\"}")" 'j["invocation_id"]'; }
inv() { jget "$(api GET "$base/$1/invocations/$2")" "$3"; }
terminated() { [ "$(inv "$1" "$2" 'j["invocation_status"]')" = TERMINATED ]; }
# check FN ID INPUT: one execution, SUCCEEDED, with the greeting and the input
check() {
  wait_until 60 "invocation $2 to end" terminated "$1" "$2"
  local got
  got=$(inv "$1" "$2" '"|".join(str(e["outcome"]) + ":" + str(e["output"]) for e in j["executions"])')
  [ "$got" = "SUCCEEDED:hello from env $3" ] || fail "$2: executions $got"
}

# 1. Through the spawner: the worker is its child and shows its command line.
a=$(start probe one)
check probe "$a" one
w=$(cat "$MN_WORK/$a.worker")
[ "$(cat "$MN_WORK/$a.parent")" = "$first" ] ||
  fail "worker $w has parent $(cat "$MN_WORK/$a.parent"), not the spawner $first"
grep -q "multinode-worker sh $MN_WORK/probe.sh" "$MN_WORK/$a.cmdline" ||
  fail "worker command line: $(cat "$MN_WORK/$a.cmdline")"
grep -q "started worker pid $w (spawner)" "$MN_WORK/s.log" || fail "the daemon did not log the spawner launch"
log=$(cat "$(inv probe "$a" 'j["executions"][0]["worker_details"]["logs_identifier"]')")
grep -q '^multinode-worker: recorded outcome SUCCEEDED$' <<<"$log" || fail "worker log: $log"
pass "a worker forked by the spawner ($first) ran with the function's env and input"

# 2. The spawner killed between invocations: the next one still runs, once.
kill -9 "$first"
b=$(start probe two)
check probe "$b" two
second=$(spawners)
[ -n "$second" ] && [ "$second" != "$first" ] || fail "no new spawner (was $first, now '$second')"
[ "$(cat "$MN_WORK/$b.parent")" = "$second" ] || fail "$b did not run under the new spawner"
pass "spawner killed between invocations: restarted ($second), the next invocation ran once"

# 3. The spawner killed under a running worker: the worker finishes its run.
c=$(start hold three)
wait_until 30 "$c to start" test -f "$MN_WORK/$c.started"
kill -9 "$second"
wait_until 10 "the killed spawner to be gone" bash -c "[ \"\$(spawners)\" != $second ]"
touch "$MN_WORK/$c.go"
check hold "$c" three
d=$(start probe four)
check probe "$d" four
pass "spawner killed under a running worker: the worker finished, the next invocation ran"

# 4. The daemon killed: its spawner exits; a worker it forked finishes once
#    the daemon is back.
e=$(start hold five)
wait_until 30 "$e to start" test -f "$MN_WORK/$e.started"
third=$(spawners)
daemon_kill s KILL
wait_until 10 "the spawner to exit with the daemon" bash -c "! kill -0 $third 2>/dev/null"
kill -0 "$(cat "$MN_WORK/$e.worker")" || fail "the worker of $e died with the daemon"
touch "$MN_WORK/$e.go"
daemon_start s
check hold "$e" five
pass "daemon killed: the spawner exited, the worker ran on and its result landed"
