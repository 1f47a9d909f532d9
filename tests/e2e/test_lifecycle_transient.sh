#!/usr/bin/env bash
# Provider failures that are TRANSIENT are retried with backoff and spend no
# attempt; a launch that never succeeds ends its execution once
# scheduler.provision_timeout has passed (nothing stays PROVISIONING), and
# the retry policy applies. Uses the `flaky` test provider.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
plugin="$MN_BUILD_DIR/lib/test-plugins/mn_provider_flaky.so"
[ -f "$plugin" ] || fail "test plugin not built: $plugin"
daemon_config t "scheduler:
  provision_timeout: 2s
  inspect_interval_ms: 50
providers:
  default: flaky3
  flaky3:
    plugin: $plugin
    transient_launches: 3
  down:
    plugin: $plugin
    always_transient: true"
daemon_start t

fn() { # fn NAME PROVIDER RETRIES
  printf '{"function_name":"%s","provider":"%s","command":["true"],"resource_spec":{"virtual_cpus":1,"memory_gbs":1,"max_concurrency":10},"execution_spec":{"max_retries":%s,"timeout_seconds":60}}' "$1" "$2" "$3"
}
api PUT /projects/t >/dev/null
api POST /projects/t/versions "{\"default_docker_image\":\"none\",\"functions\":[$(fn three flaky3 0),$(fn never down 1)]}" >/dev/null
[ "$(last_status)" = 200 ] || fail "cannot deploy"
base=/projects/t/versions/latest/functions

inv() { jget "$(api GET "$base/$1/invocations/$2")" "$3"; }
terminated() { [ "$(inv "$1" "$2" 'j["invocation_status"]')" = TERMINATED ]; }

# three transient launch failures, then a worker: one execution, not four
a=$(jget "$(api POST "$base/three/invocations" '{"input":""}')" 'j["invocation_id"]')
wait_until 30 "invocation of 'three' to end" terminated three "$a"
n=$(inv three "$a" 'len(j["executions"])')
[ "$n" = 1 ] || fail "three transient failures spent attempts: $n executions"
[ "$(inv three "$a" 'j["executions"][0]["worker_details"]["type"]')" = flaky3 ] ||
  fail "the execution never got its worker"
fails=$(grep -c "launch: flaky: simulated outage" "$MN_WORK/t.log" || true)
[ "$fails" -ge 3 ] || fail "expected 3 logged transient failures, found $fails"
pass "3 transient launch failures retried with backoff, 1 execution"

# a provider that is always down: each attempt ends after provision_timeout
b=$(jget "$(api POST "$base/never/invocations" '{"input":""}')" 'j["invocation_id"]')
wait_until 60 "invocation of 'never' to end" terminated never "$b"
msgs=$(inv never "$b" '"|".join(str(e["worker_status"]) + ":" + str(e["error_message"]) for e in j["executions"])')
count=$(inv never "$b" 'len(j["executions"])')
[ "$count" = 2 ] || fail "max_retries 1: want 2 executions, got $count: $msgs"
case "$msgs" in
  "TERMINATED:the worker was not provisioned within 2 s: launch: flaky: simulated outage"*"|TERMINATED:the worker was not provisioned within 2 s: launch: flaky: simulated outage"*) ;;
  *) fail "unexpected executions: $msgs" ;;
esac
pass "an always-failing provider: each attempt ends after provision_timeout with the reason; retries apply"
