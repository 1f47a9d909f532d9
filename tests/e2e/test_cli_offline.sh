#!/usr/bin/env bash
# The multinode CLI without a daemon: usage errors exit 2, a URL where
# nothing listens exits 1 with "cannot reach <url>: is multinoded running?",
# a missing key says to log in, and in-worker verbs refuse to run outside a
# worker. Needs MN_BIN_DIR.
. "$(dirname "$0")/lib.sh"
work=$(new_workdir); trap 'rm -rf "$work"' EXIT
mn=$MN_BIN_DIR/multinode
[ -x "$mn" ] || fail "no $mn"

export HOME=$work
unset MULTINODE_API_URL MULTINODE_API_KEY MULTINODE_PROJECT_NAME MULTINODE_VERSION_ID \
  MULTINODE_FUNCTION_NAME MULTINODE_INVOCATION_ID MULTINODE_EXECUTION_ID

# run CMD...: sets $rc, $out (stdout) and $err (stderr)
run() {
  set +e
  "$@" >"$work/out" 2>"$work/err"; rc=$?
  set -e
  out=$(cat "$work/out"); err=$(cat "$work/err")
}
expect_rc() { [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1 (stderr: $err)"; }

run "$mn" help
expect_rc 0 "help"
for c in login logout list describe start get wait cancel logs progress; do
  grep -q "^  $c " <<<"$out" || fail "help does not list $c"
done
pass "help lists the commands"

run "$mn" help wait
expect_rc 0 "help wait"; grep -q -- "--timeout" <<<"$out" || fail "help wait: no --timeout"
run "$mn" wait --help
expect_rc 0 "wait --help"

run "$mn"
expect_rc 2 "no command"
run "$mn" frobnicate
expect_rc 2 "unknown command"; grep -q 'unknown command "frobnicate"' <<<"$err" || fail "$err"
run "$mn" start --project-name p
expect_rc 2 "start without FUNCTION"; grep -q "FUNCTION is missing" <<<"$err" || fail "$err"
run "$mn" get --project-name p --function f --bogus x
expect_rc 2 "unknown option"; grep -q 'unknown option "--bogus"' <<<"$err" || fail "$err"
run "$mn" get --project-name p --function-name f
expect_rc 2 "get without id"; grep -q "invocation id is missing" <<<"$err" || fail "$err"
run "$mn" wait --project-name p --function f --timeout soon inv-1
expect_rc 2 "bad timeout"
run "$mn" start f
expect_rc 2 "start without project"; grep -q -- "--project-name is required" <<<"$err" || fail "$err"
run "$mn" list --json=yes
expect_rc 2 "flag with a value"
run "$mn" progress "50%"
expect_rc 2 "progress outside a worker"
grep -q "only inside a worker" <<<"$err" || fail "progress: $err"
pass "usage errors exit 2 and say what is wrong"

# no key anywhere
run "$mn" list
expect_rc 1 "list without a key"
grep -q "multinode login" <<<"$err" || fail "no hint to log in: $err"
pass "a missing API key says to run multinode login"

# nothing listens on port 1
export MULTINODE_API_URL=http://127.0.0.1:1 MULTINODE_API_KEY=k
for args in "list" "start --project-name p f --input x" "get --project-name p --function f inv-1" \
    "wait --project-name p --function f inv-1" "cancel --project-name p --function f inv-1" \
    "logs --project-name p --function f inv-1 --execution-id exe-1" \
    "describe --project-name p"; do
  # shellcheck disable=SC2086
  run "$mn" $args
  expect_rc 1 "$args"
  grep -q "cannot reach http://127.0.0.1:1: is multinoded running?" <<<"$err" ||
    fail "$args: no cannot-reach message: $err"
  [ -z "$out" ] || fail "$args: wrote to stdout: $out"
done
pass "an unreachable daemon exits 1 with 'cannot reach <url>: is multinoded running?'"

# in a worker: progress is allowed, retries an unreachable daemon until
# MULTINODE_RETRY_SECONDS pass, and prints nothing on stdout, even failing
start_ms=$(( $(date +%s%N) / 1000000 ))
run env MULTINODE_PROJECT_NAME=p MULTINODE_VERSION_ID=ver-1 MULTINODE_FUNCTION_NAME=f \
  MULTINODE_INVOCATION_ID=inv-1 MULTINODE_EXECUTION_ID=exe-1 MULTINODE_RETRY_SECONDS=1 \
  MULTINODE_API_URL=http://127.0.0.1:1 "$mn" progress "half way"
took=$(( $(date +%s%N) / 1000000 - start_ms ))
expect_rc 1 "progress with the daemon down"
[ -z "$out" ] || fail "progress wrote to stdout: $out"
grep -q "cannot reach" <<<"$err" || fail "progress: $err"
grep -q "gave up after [0-9]* attempts" <<<"$err" || fail "progress did not retry: $err"
[ "$took" -ge 500 ] && [ "$took" -lt 10000 ] || fail "progress retried for ${took} ms, want ~1 s"
pass "in-worker progress retries until its deadline and keeps stdout clean"

# login against nothing: fails and writes no config
unset MULTINODE_API_URL MULTINODE_API_KEY
run "$mn" login --url http://127.0.0.1:1 --api-key k
expect_rc 1 "login to nothing"
grep -q "cannot reach http://127.0.0.1:1" <<<"$err" || fail "login: $err"
[ ! -e "$HOME/.multinode/config.json" ] || fail "login wrote a config it could not check"
run "$mn" logout
expect_rc 0 "logout when logged out"
pass "login checks before saving; logout is harmless"
