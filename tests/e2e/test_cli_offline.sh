#!/usr/bin/env bash
# The multinode CLI without a daemon: usage errors exit 2 (with "did you
# mean" for a mistyped command or option), --version on both binaries is the
# build's, a URL where nothing listens exits 6 with "cannot reach <url>: is
# multinoded running?", a URL with a path or the wrong scheme gets a hint,
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
run "$mn" strat
expect_rc 2 "a typo of start"; grep -q 'did you mean `multinode start`' <<<"$err" || fail "$err"
run "$mn" get --project inv-1
expect_rc 2 "--project"; grep -q 'did you mean --project-name?' <<<"$err" || fail "$err"
run "$mn" wait --timout 5s inv-1
expect_rc 2 "--timout"; grep -q 'did you mean --timeout?' <<<"$err" || fail "$err"
want_version=$(sed -n 's/^project(multinode VERSION \([0-9.]*\).*/\1/p' "$MN_SOURCE_DIR/CMakeLists.txt")
[ -n "$want_version" ] || fail "no version in CMakeLists.txt"
run "$mn" --version
expect_rc 0 "--version"; [ "$out" = "multinode $want_version" ] || fail "multinode --version: $out"
run "$MN_BIN_DIR/multinoded" --version
expect_rc 0 "multinoded --version"; [ "$out" = "multinoded $want_version" ] || fail "multinoded --version: $out"
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
  expect_rc 6 "$args"
  grep -q "cannot reach http://127.0.0.1:1: is multinoded running?" <<<"$err" ||
    fail "$args: no cannot-reach message: $err"
  [ -z "$out" ] || fail "$args: wrote to stdout: $out"
done
pass "an unreachable daemon exits 6 with 'cannot reach <url>: is multinoded running?'"
# the id alone, and --execution-id alone, reach for the daemon too
for args in "get inv-1" "wait inv-1" "cancel inv-1" "logs inv-1" "logs --execution-id exe-1" \
    "describe --invocation-id inv-1" "invocations --project-name p"; do
  # shellcheck disable=SC2086
  run "$mn" $args
  expect_rc 6 "$args"
done
pass "id-only commands: exit 6 when the daemon is unreachable"

# a URL with a path (a web server's 404), and https against plain http
python3 -m http.server --bind 127.0.0.1 0 --directory "$work" >"$work/http.log" 2>&1 &
web=$!
wait_for 10 grep -q "Serving HTTP on" "$work/http.log" || fail "no http.server"
wport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -n1)
run env MULTINODE_API_URL="http://127.0.0.1:$wport/api" MULTINODE_API_KEY=k "$mn" list
expect_rc 1 "a URL with a path"
grep -q "MULTINODE_API_URL is the daemon's root" <<<"$err" || fail "no path hint: $err"
run env MULTINODE_API_URL="https://127.0.0.1:$wport" MULTINODE_API_KEY=k "$mn" list
grep -q "try http:// in MULTINODE_API_URL" <<<"$err" || fail "no https->http hint (exit $rc): $err"
kill "$web"; wait "$web" 2>/dev/null || true
pass "hints for a URL with a path and for https against plain http"

# in a worker: progress is allowed, retries an unreachable daemon until
# MULTINODE_RETRY_SECONDS pass, and prints nothing on stdout, even failing
start_ms=$(( $(date +%s%N) / 1000000 ))
run env MULTINODE_PROJECT_NAME=p MULTINODE_VERSION_ID=ver-1 MULTINODE_FUNCTION_NAME=f \
  MULTINODE_INVOCATION_ID=inv-1 MULTINODE_EXECUTION_ID=exe-1 MULTINODE_RETRY_SECONDS=1 \
  MULTINODE_API_URL=http://127.0.0.1:1 "$mn" progress "half way"
took=$(( $(date +%s%N) / 1000000 - start_ms ))
expect_rc 6 "progress with the daemon down"
[ -z "$out" ] || fail "progress wrote to stdout: $out"
grep -q "cannot reach" <<<"$err" || fail "progress: $err"
grep -q "gave up after [0-9]* attempts" <<<"$err" || fail "progress did not retry: $err"
[ "$took" -ge 500 ] && [ "$took" -lt 10000 ] || fail "progress retried for ${took} ms, want ~1 s"
pass "in-worker progress retries until its deadline and keeps stdout clean"

# login against nothing: fails and writes no config
unset MULTINODE_API_URL MULTINODE_API_KEY
run "$mn" login --url http://127.0.0.1:1 --api-key k
expect_rc 6 "login to nothing"
grep -q "cannot reach http://127.0.0.1:1" <<<"$err" || fail "login: $err"
[ ! -e "$HOME/.multinode/config.json" ] || fail "login wrote a config it could not check"
run "$mn" logout
expect_rc 0 "logout when logged out"
pass "login checks before saving; logout is harmless"
