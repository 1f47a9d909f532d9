#!/usr/bin/env bash
# The per-execution log cap of the local provider (providers.<name>.
# max_log_bytes, worker/logcap.h), with a real daemon and the real worker:
#  1. the default, 64 MiB: a task writes 200 MB to its standard error; its
#     log ends at most a few KiB above 64 MiB, with the head (the worker's
#     first lines), one marker line, the tail (the writer's last line) and
#     the worker's closing lines; meanwhile the daemon keeps serving — GET /
#     within 1 s throughout, another invocation runs to SUCCEEDED — and the
#     log's first page comes through the logs endpoint;
#  2. a 1 MiB cap on a second local provider: numbered lines, the first
#     ones kept whole, the last one kept, one marker between, the count of
#     what was left out in the worker's closing line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"
plugin="$MN_PLUGIN_DIR/mn_provider_local.so"
[ -f "$plugin" ] || fail "the local provider is not built: $plugin"

daemon_config l "$LC_SCHED_YAML
providers:
  default: local
  local: {}
  small:
    plugin: $plugin
    max_log_bytes: 1MiB"
daemon_start l
grep -q 'logs capped at 67108864 bytes' "$MN_WORK/l.log" || fail "the default cap is not 64 MiB"

gates=$MN_WORK/gates
mkdir -m 1777 "$gates"
# 200 chunks of 1,000,000 bytes (lines of 100), then the last line.
writer="i=0; while [ \$i -lt 200 ]; do yes $(printf '%099d' 7) | head -c 1000000 >&2; i=\$((i+1)); done; echo >&2; echo THE-LAST-LINE >&2; touch $gates/\$MULTINODE_INVOCATION_ID.done"
numbered="seq 1 200000 | sed 's/^/line /' >&2"
lc_deploy caps "[$(lc_fn big "$writer"),$(lc_fn quick 'echo quick'),$(lc_fn numbered "$numbered" 10 0 60 '{"provider":"small"}')]"

# 1. 200 MB against the default cap, the daemon serving throughout.
t0=$(date +%s%N)
big=$(lc_start big)
slowest=0 polls=0 other=""
while [ ! -f "$gates/$big.done" ]; do
  start=$(date +%s%N)
  curl -sf --max-time 1 "$MN_URL/" >/dev/null || fail "GET / did not answer within 1 s while the task wrote"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ $ms -gt $slowest ] && slowest=$ms
  polls=$((polls + 1))
  if [ -z "$other" ] && [ $polls -ge 3 ]; then other=$(lc_start quick); fi
  [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 300 ] || fail "the writer did not finish in 300 s"
done
[ -n "$other" ] || other=$(lc_start quick)
lc_wait_terminated 120 big "$big"
lc_wait_terminated 60 quick "$other"
[ "$(lc_outcomes quick "$other")" = SUCCEEDED ] || fail "the other invocation: $(lc_inv quick "$other")"
[ "$(lc_outcomes big "$big")" = SUCCEEDED ] || fail "the writer: $(lc_inv big "$big")"
secs=$(( ($(date +%s%N) - t0) / 1000000 ))
log=$(lc_field big "$big" 'j["executions"][0]["worker_details"]["logs_identifier"]')
size=$(stat -c %s "$log")
[ "$size" -le $((67108864 + 8192)) ] || fail "the log is $size bytes"
[ "$size" -ge $((67108864 - 8192)) ] || fail "the log is only $size bytes"
head -n1 "$log" | grep -q '^multinode-worker: started execution' || fail "head: $(head -n1 "$log")"
[ "$(grep -c '^multinode-worker: the log reached its cap of 67108864 bytes' "$log")" = 1 ] ||
  fail "not one marker line"
tail -n 6 "$log" | grep -qx 'THE-LAST-LINE' || fail "tail: $(tail -n 6 "$log")"
grep -q "^multinode-worker: 1[0-9]* bytes of the command's standard error were left out" "$log" ||
  fail "no count of what was left out: $(tail -n 6 "$log")"
tail -n1 "$log" | grep -qx 'multinode-worker: recorded outcome SUCCEEDED' || fail "last line: $(tail -n1 "$log")"
exe=$(lc_field big "$big" 'j["executions"][0]["execution_id"]')
page=$(api GET "$LC_BASE/functions/big/invocations/$big/executions/$exe/logs?max_lines=2")
[ "$(last_status)" = 200 ] || fail "logs endpoint: HTTP $(last_status) $page"
grep -q 'started execution' <<<"$page" || fail "logs endpoint: $page"
pass "200 MB of stderr: a $size-byte log (head, marker, tail); GET / at most ${slowest} ms over $polls polls; another invocation SUCCEEDED meanwhile; $secs ms in all"

# 2. A 1 MiB cap: the first lines and the last one, one marker between.
n=$(lc_start numbered)
lc_wait_terminated 60 numbered "$n"
log=$(lc_field numbered "$n" 'j["executions"][0]["worker_details"]["logs_identifier"]')
size=$(stat -c %s "$log")
[ "$size" -le $((1048576 + 4096)) ] || fail "the 1 MiB log is $size bytes"
grep -qx 'line 1' "$log" && grep -qx 'line 2' "$log" || fail "the head lost the first lines"
grep -qx 'line 200000' "$log" || fail "the tail lost the last line"
marker=$(grep -n '^multinode-worker: the log reached its cap of 1048576 bytes' "$log" | cut -d: -f1)
[ -n "$marker" ] && [ "$(grep -c 'reached its cap' "$log")" = 1 ] || fail "not one marker line"
[ "$(sed -n "$((marker - 1))p" "$log" | grep -c '^line [0-9]*$')" = 1 ] ||
  fail "the head does not end with a whole line before the marker"
[ "$(sed -n "$((marker + 1))p" "$log" | grep -c '^line [0-9]*$')" = 1 ] ||
  fail "the tail does not start with a whole line after the marker"
before=$(sed -n "$((marker - 1))p" "$log" | cut -d' ' -f2)
after=$(sed -n "$((marker + 1))p" "$log" | cut -d' ' -f2)
[ "$after" -gt "$before" ] || fail "the tail ($after) does not follow the head ($before)"
pass "1 MiB cap: lines 1..$before, a marker, lines $after..200000 ($size bytes)"
