#!/usr/bin/env bash
# Queued invocations get capacity in FIFO order (docs/architecture.md §5; the original
# gave no order, docs/compatibility.md §3.5 rule 7). A function with max_concurrency 1:
# one blocker runs, 5 more are queued in order; they are released one at a
# time. Each command appends its invocation id to a file when it starts.
# Checks: while the blocker runs, the queued ones have no execution; never
# more than one runs at once; the start order equals the creation order;
# all SUCCEEDED with one execution each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

N=5
gate=$MN_WORK/gate
order=$MN_WORK/order
mkdir -p -m 1777 "$gate"
: >"$order"
chmod 666 "$order" # the commands (run as nobody) append to it
daemon_config d "$LC_SCHED_YAML"
daemon_start d

one='echo $MULTINODE_INVOCATION_ID >> '"$order"'
'"$(lc_gate "$gate")"'
echo done $(cat)'
lc_deploy fifo "[$(lc_fn one "$one" 1 0 120), $(lc_fn probe 'cat')]"

blocker=$(lc_start one blocker)
wait_until 30 "the blocker to run" test -f "$gate/$blocker.started"
queued=()
for ((k = 0; k < N; k++)); do queued+=("$(lc_start one "q$k")"); done
pass "blocker running, $N invocations queued"

# Nothing else starts while the blocker holds the only slot. A probe of
# another function, created after the queue, gets its execution in a pass
# that saw the whole queue (a pass reads every RUNNING invocation).
probe=$(lc_start probe x)
lc_wait_terminated 30 probe "$probe"
for id in "${queued[@]}"; do
  n=$(lc_field one "$id" 'len(j["executions"])')
  [ "$n" = 0 ] || fail "queued invocation $id has $n execution(s) while the slot is taken"
done
[ "$(wc -l <"$order")" = 1 ] || fail "$(wc -l <"$order") commands started with max_concurrency 1"
pass "the queued invocations have no execution while the slot is taken"

# running_count: commands started but not released
running_count() {
  local n=0 f
  for f in "$gate"/*.started; do
    [ -e "$f" ] || continue
    [ -e "${f%.started}.go" ] || n=$((n + 1))
  done
  echo "$n"
}

prev=$blocker
for ((k = 0; k < N; k++)); do
  touch "$gate/$prev.go"
  next=${queued[$k]}
  wait_until 30 "queued invocation #$k ($next) to start" test -f "$gate/$next.started"
  [ "$(running_count)" = 1 ] || fail "$(running_count) commands run at once"
  got=$(sed -n "$((k + 2))p" "$order")
  [ "$got" = "$next" ] || fail "start #$((k + 1)) after the blocker is $got, expected $next (FIFO)"
  [ "$(wc -l <"$order")" = $((k + 2)) ] || fail "more than one queued invocation started"
  prev=$next
done
touch "$gate/$prev.go"
pass "each release started the oldest queued invocation"

expected=$(printf '%s\n' "$blocker" "${queued[@]}")
[ "$(cat "$order")" = "$expected" ] || fail "start order differs from creation order:
$(cat "$order")
expected:
$expected"
lc_wait_terminated 30 one "$blocker" "${queued[@]}"
for id in "$blocker" "${queued[@]}"; do
  [ "$(lc_outcomes one "$id")" = SUCCEEDED ] || fail "$id: outcomes $(lc_outcomes one "$id")"
done
pass "start order = creation order; all $((N + 1)) SUCCEEDED with one execution each"
