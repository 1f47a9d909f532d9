#!/usr/bin/env bash
# Issue 19 through the real binaries (a daemon with the local provider and a
# container-type provider, the template plugin):
#  - deploy checks against the daemon: a provider it does not run, a
#    container function without an image, a host path as the command under a
#    container provider (accepted with --allow-host-paths); nothing created;
#  - the id alone is enough for get/wait/logs/cancel/describe, across an
#    upgrade (the invocation's version is no longer the latest);
#  - wait's exit status for each outcome: 0 succeeded, 1 failed, 3
#    cancelled, 4 timed out, 5 gave up waiting;
#  - wait rides through a daemon restart (MULTINODE_RETRY_SECONDS);
#  - "did you mean" for a project and a function;
#  - undeploy asks on a terminal (script(1)) unless --yes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
mn=$MN_BIN_DIR/multinode
export HOME=$MN_WORK
unset MULTINODE_PROJECT_NAME MULTINODE_VERSION_ID MULTINODE_FUNCTION_NAME \
  MULTINODE_INVOCATION_ID MULTINODE_EXECUTION_ID

run() { set +e; "$@" >"$MN_WORK/out" 2>"$MN_WORK/err"; rc=$?; set -e
  out=$(cat "$MN_WORK/out"); err=$(cat "$MN_WORK/err"); }
expect_rc() { [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1 (stdout: $out) (stderr: $err)"; }
has_err() { grep -qF -- "$1" <<<"$err" || fail "$2: stderr lacks \"$1\": $err"; }

daemon_config d "scheduler:
  termination_grace_seconds: 1s
  inspect_interval_ms: 200
providers:
  default: local
  local:
  box:
    plugin: $MN_PLUGIN_DIR/mn_provider_template.so"
daemon_start d
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY

# ------------------------------------------------------ deploy-time checks
manifest() { # manifest DIR YAML: a project folder with a task script
  mkdir -p "$MN_WORK/$1"; printf '%s\n' "$2" >"$MN_WORK/$1/multinode.yaml"
  echo 'cat' >"$MN_WORK/$1/task.sh"
}
manifest noprov 'functions:
  f:
    command: ["sh", "-c", "cat"]
    provider: nope'
manifest noimage 'functions:
  f:
    command: ["sh", "-c", "cat"]
    provider: box'
manifest hostpath 'image: some/image:1
functions:
  f:
    command: ["sh", "${PROJECT_DIR}/task.sh"]
    provider: box'
run "$mn" deploy "$MN_WORK/noprov" --project-name refused
expect_rc 1 "a provider the daemon does not run"
has_err 'functions.f.provider: the daemon has no provider "nope" (it has "local", "box")' noprov
run "$mn" deploy "$MN_WORK/noimage" --project-name refused
expect_rc 1 "a container function without an image"
has_err 'provider "box" (type template) runs container images, and this function has none' noimage
run "$mn" deploy "$MN_WORK/hostpath" --project-name refused
expect_rc 1 "a host path under a container provider"
has_err "functions.f.command: \"$MN_WORK/hostpath/task.sh\" is a file of this machine" hostpath
has_err "--allow-host-paths" hostpath
run "$mn" describe --project-name refused
expect_rc 1 "the refused project"; has_err ProjectDoesNotExist "nothing was created"
run "$mn" deploy "$MN_WORK/hostpath" --project-name bound --allow-host-paths
expect_rc 0 "a host path the provider binds (--allow-host-paths)"
pass "deploy refuses an unknown provider, a container function without an image and a host path (unless --allow-host-paths); nothing created"

# ------------------------------------------------ the id alone, across an upgrade
manifest demo 'functions:
  echo:
    command: ["sh", "-c", "read x; if [ \"$x\" = fail ]; then echo boom >&2; exit 3; fi; sleep \"$x\"; echo \"slept $x\""]
    timeout: 3s
    max_retries: 0'
run "$mn" deploy "$MN_WORK/demo" --project-name demo
expect_rc 0 "deploy demo"; v1=$out
# the input from standard input (--input -); a folder there is refused
run "$mn" start --project-name demo --input - echo <"$MN_WORK"
expect_rc 1 "--input - from a folder"; has_err "cannot read standard input: Is a directory" "stdin folder"
id=$(printf 0 | "$mn" start --project-name demo --input - echo)
run "$mn" upgrade "$MN_WORK/demo" --project-name demo
expect_rc 0 "upgrade demo"; [ "$out" != "$v1" ] || fail "upgrade made no new version"
run "$mn" wait --quiet "$id"
expect_rc 0 "wait ID across an upgrade"; [ "$out" = "slept 0" ] || fail "wait printed: $out"
run "$mn" get "$id"
expect_rc 0 "get ID"; grep -q "status: SUCCEEDED" <<<"$out" || fail "get: $out"
run "$mn" get --json "$id"
[ "$(jq -r .invocation.version_id <<<"$out")" = "$v1" ] || fail "get --json: not version $v1: $out"
run "$mn" logs "$id"
expect_rc 0 "logs ID"; grep -q "recorded outcome SUCCEEDED" <<<"$out" || fail "logs: $out"
exe=$(jq -r '.invocation.executions[0].execution_id' <<<"$("$mn" get --json "$id")")
run "$mn" logs --execution-id "$exe"
expect_rc 0 "logs --execution-id alone"; grep -q "recorded outcome SUCCEEDED" <<<"$out" || fail "logs --execution-id: $out"
run "$mn" describe --invocation-id "$id"
expect_rc 0 "describe --invocation-id alone"
grep -q "$exe" <<<"$out" || fail "describe lacks the execution: $out"
grep -q "outcome: SUCCEEDED" <<<"$out" || fail "describe lacks the outcome: $out"
pass "get/wait/logs/describe with the id alone after an upgrade (version $v1 is not the latest); --input - reads standard input"

# ------------------------------------------------ wait's exit status per outcome
start() { "$mn" start --project-name demo --input "$1" echo; }
id_fail=$(start fail); id_slow=$(start 30); id_cancel=$(start 30)
run "$mn" wait --quiet "$id_fail"
expect_rc 1 "wait for a FAILED invocation"; has_err "FAILED" "failed"
run "$mn" get "$id_fail"
expect_rc 1 "get of a FAILED invocation"
run "$mn" wait --quiet --timeout 300ms "$id_cancel"
expect_rc 5 "wait --timeout on a running invocation (gave up)"; has_err "gave up waiting after 300ms" "gave up"
run "$mn" cancel "$id_cancel"
expect_rc 0 "cancel ID"
run "$mn" wait --quiet "$id_cancel"
expect_rc 3 "wait for a CANCELLED invocation"; has_err "CANCELLED" "cancelled"
run "$mn" wait --quiet "$id_slow"
expect_rc 4 "wait for a TIMED OUT invocation (3 s timeout, sleeps 30)"; has_err "TIMED OUT" "timed out"
pass "wait exits 1 failed, 3 cancelled, 4 timed out, 5 gave up; get exits 1 for failed"

# ------------------------------------------------ wait through a daemon restart
id=$(start 2)
MULTINODE_RETRY_SECONDS=60 "$mn" wait "$id" >"$MN_WORK/w.out" 2>"$MN_WORK/w.err" &
waiter=$!
wait_until 20 "the waiter sees RUNNING" grep -q ": RUNNING" "$MN_WORK/w.err"
daemon_kill d TERM
daemon_start d
set +e; wait "$waiter"; wrc=$?; set -e
[ "$wrc" = 0 ] || fail "wait through a restart: exit $wrc: $(cat "$MN_WORK/w.err")"
[ "$(cat "$MN_WORK/w.out")" = "slept 2" ] || fail "wait through a restart printed: $(cat "$MN_WORK/w.out")"
pass "wait rode through a daemon restart and printed the result"

# ------------------------------------------------ did you mean
run "$mn" start --project-name demoo echo
expect_rc 1 "a mistyped project"; has_err 'did you mean "demo"?' "project"
run "$mn" start --project-name demo ecko
expect_rc 1 "a mistyped function"; has_err 'did you mean "echo"?' "function"
pass "did you mean for a project and a function"

# ------------------------------------------------ undeploy asks on a terminal
script -qec "$mn undeploy --project-name bound" /dev/null <<<"bund" >"$MN_WORK/tty.out" 2>&1 || true
grep -q "Type the project name to confirm" "$MN_WORK/tty.out" || fail "no question: $(cat "$MN_WORK/tty.out")"
grep -q 'not confirmed: project "bound" is left as it was' "$MN_WORK/tty.out" || fail "$(cat "$MN_WORK/tty.out")"
run "$mn" describe --project-name bound
expect_rc 0 "the unconfirmed project is still there"
grep -q "MARKED FOR DELETION" <<<"$out" && fail "undeployed without confirmation"
script -qec "$mn undeploy --yes --project-name bound" /dev/null </dev/null >"$MN_WORK/tty.out" 2>&1 ||
  fail "undeploy --yes: $(cat "$MN_WORK/tty.out")"
grep -q "marked for deletion" "$MN_WORK/tty.out" || fail "undeploy --yes: $(cat "$MN_WORK/tty.out")"
pass "undeploy asks on a terminal (a wrong name leaves the project); --yes does not ask"
