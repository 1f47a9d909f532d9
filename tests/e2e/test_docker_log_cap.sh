#!/usr/bin/env bash
# The Docker provider's saved-log cap (providers.docker.max_log_bytes,
# plugins/docker/log_cap.h) on a private Docker Engine: a container writes
# 300,000 numbered lines (3.5 MB) to its standard error; the log release
# saves is at most 1 MiB and a little, holds the first lines, one marker
# stamped between the head and the tail, and the last line; the logs
# endpoint pages through the saved file from its first line to the last,
# the marker among them, after the container is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
docker_image_build multinode-worker:logcap
daemon_config d "$(docker_yaml "max_log_bytes: 1MiB")
scheduler:
  inspect_interval_ms: 200"
daemon_start d

api PUT /projects/cap >/dev/null
v=$(api POST /projects/cap/versions '{"default_docker_image":"multinode-worker:logcap","functions":[
  {"function_name":"lines","command":["sh","-c","seq 1 300000 | sed \"s/^/line /\" >&2"],
   "resource_spec":{"virtual_cpus":0.5,"memory_gbs":0.25,"max_concurrency":1},
   "execution_spec":{"max_retries":0,"timeout_seconds":120}}]}' | jq -r .version_id)
[[ $v == ver-* ]] || fail "no version: $v"
base=/projects/cap/versions/$v/functions/lines
id=$(api POST "$base/invocations" '{"input":""}' | jq -r .invocation_id)
ended() { [ "$(api GET "$base/invocations/$id" | jq -r .invocation_status)" = TERMINATED ]; }
wait_until 120 "the invocation to end" ended
exe=$(api GET "$base/invocations/$id" | jq -r '.executions[0].execution_id')
[ "$(api GET "$base/invocations/$id" | jq -r '.executions[0].outcome')" = SUCCEEDED ] ||
  fail "$(api GET "$base/invocations/$id")"
saved=$MN_WORK/data/docker/logs/multinode-$exe.log
wait_until 60 "the log to be saved and the container removed" \
  bash -c "[ -f '$saved' ] && [ -z \"\$(curl -s --unix-socket '$MN_DOCKER_SOCK' 'http://e/v1.41/containers/json?all=1' | jq -r '.[].Id')\" ]"
size=$(stat -c %s "$saved")
# lines carry a 31-byte timestamp: the cap counts the saved bytes
[ "$size" -le $((1048576 + 4096)) ] || fail "the saved log is $size bytes"
grep -q ' line 1$' "$saved" || fail "the head lost line 1"
grep -q ' line 300000$' "$saved" || fail "the tail lost the last line"
[ "$(grep -c ' multinode: the log reached its cap of 1048576 bytes' "$saved")" = 1 ] ||
  fail "not one marker line"

# Paged through the endpoint, from the saved file: in order, the marker
# between line N and a later line M.
offset="" lines=0 prev=0 seen_marker=0 last=""
while :; do
  q="max_lines=250"; [ -z "$offset" ] || q="$q&initial_offset=$(jq -rn --arg o "$offset" '$o|@uri')"
  page=$(api GET "$base/invocations/$id/executions/$exe/logs?$q")
  [ "$(last_status)" = 200 ] || fail "logs: HTTP $(last_status) $page"
  n=$(jq '.log_lines | length' <<<"$page")
  [ "$n" -gt 0 ] || break
  while IFS= read -r l; do
    lines=$((lines + 1))
    case "$l" in
    "line "*) k=${l#line }
      [ "$k" -gt "$prev" ] || fail "line $k after line $prev"
      prev=$k ;;
    "multinode: the log reached its cap"*) seen_marker=$((seen_marker + 1)) ;;
    esac
    last=$l
  done < <(jq -r '.log_lines[]' <<<"$page")
  offset=$(jq -r '.next_offset // empty' <<<"$page")
  [ -n "$offset" ] || break
  [ $lines -lt 200000 ] || fail "the pages do not end"
done
[ "$seen_marker" = 1 ] && [ "$prev" = 300000 ] || fail "paged: $lines lines, marker $seen_marker, last $prev"
pass "3.5 MB of stderr saved as $size bytes (head, marker, tail); $lines lines paged in order after the container was removed"
