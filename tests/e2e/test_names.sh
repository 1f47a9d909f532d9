#!/usr/bin/env bash
# Names (issue 13), against a real daemon: NUL (%00) and control characters
# refused with 422 in every name and anywhere in the path; "." and ".."
# refused as names; a provider the daemon does not have refused at deploy
# with the providers it has; and nothing a client sends forges a log line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

MN_KEY=e2e-names-key-0123456789
daemon_config names
chmod 600 "$MN_WORK/names.yaml" # no warning about a readable key: every log line is an event's
daemon_start names
raw() { # METHOD PATH [BODY]: the path exactly as given (no dot-segment removal)
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -s --path-as-is --max-time 10 -o "$MN_WORK/out" -w '%{http_code}' -X "$method" \
      -H "Authorization: Bearer $MN_KEY" -H 'Content-Type: application/json' --data-binary "$body" "$MN_URL$path"
  else
    curl -s --path-as-is --max-time 10 -o "$MN_WORK/out" -w '%{http_code}' -X "$method" \
      -H "Authorization: Bearer $MN_KEY" "$MN_URL$path"
  fi
}
expect_422() { # METHOD PATH BODY LOC MSG_PART
  local code; code=$(raw "$1" "$2" "$3")
  local out; out=$(cat "$MN_WORK/out")
  [ "$code" = 422 ] || fail "$1 $2: $code $out"
  local loc; loc=$(jget "$out" '".".join(str(x) for x in j["detail"][0]["loc"])')
  [ "$loc" = "$4" ] || fail "$1 $2: loc $loc, not $4: $out"
  case $(jget "$out" 'j["detail"][0]["msg"]') in *"$5"*) ;; *) fail "$1 $2: $out" ;; esac
  pass "$1 $2 -> 422 $loc: $(jget "$out" 'j["detail"][0]["msg"]')"
}
ctl="must not contain control characters"
dots='must not be "." or ".."'

expect_422 PUT '/projects/a%00b' '' path.project_name "$ctl"
[ "$(raw GET /projects/a)" = 404 ] || fail "project \"a\" exists after PUT /projects/a%00b"
expect_422 PUT '/projects/a%0Ab' '' path.project_name "$ctl"
expect_422 PUT '/projects/a%09b' '' path.project_name "$ctl"
expect_422 PUT '/projects/a%7Fb' '' path.project_name "$ctl"
expect_422 PUT '/projects/.' '' path.project_name "$dots"
expect_422 PUT '/projects/..' '' path.project_name "$dots"
expect_422 GET '/projects/p/versions/%2e%2e' '' path.version_ref "$dots"
expect_422 GET '/projects/p/versions/v/functions/f%00/invocations' '' path.function_name "$ctl"
expect_422 GET '/projects/p/versions/v/functions/f/invocations/i%0d' '' path.invocation_id "$ctl"
expect_422 GET '/projects/p/versions/v/functions/f/invocations/i/executions/..' '' path.execution_id "$dots"
expect_422 GET '/projects/p/versions/v/functions/f/invocations?parent_function_name=f&parent_invocation_id=i%00' '' \
  query.parent_invocation_id "$ctl"
expect_422 GET '/pro%00jects' '' path "$ctl"

raw PUT /projects/p >/dev/null
fn() { # NAME_JSON [PROVIDER]
  local provider=${2:+,\"provider\":\"$2\"}
  echo "{\"default_docker_image\":\"img:1\",\"functions\":[{\"function_name\":$1,\"resource_spec\":{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":1},\"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":30},\"command\":[\"true\"]$provider}]}"
}
expect_422 POST /projects/p/versions "$(fn '"a\nb"')" body.functions.0.function_name "$ctl"
[ "$(raw POST /projects/p/versions "$(fn '"..."')")" = 200 ] || fail "\"...\" is a fine name: $(cat "$MN_WORK/out")"
expect_422 POST /projects/p/versions "$(fn '".."')" body.functions.0.function_name "$dots"
expect_422 POST /projects/p/versions "$(fn '"."')" body.functions.0.function_name "$dots"
expect_422 POST /projects/p/versions "$(fn '"f"' nope)" body.functions.0.provider 'this daemon has "local", not "nope"'
[ "$(raw POST /projects/p/versions "$(fn '"f"' local)")" = 200 ] || fail "provider local: $(cat "$MN_WORK/out")"
expect_422 POST /projects/p/versions/latest/functions/f/invocations \
  '{"parent_invocation":{"function_name":"f\u001b[2J","invocation_id":"i"},"input":"x"}' \
  body.parent_invocation.function_name "$ctl"

# no line of the log was written by a client: a path that carries a newline
# and a fake log line stays on its request's line, escaped
forged='2026-01-01T00:00:00.000000Z error main: forged'
raw GET "/projects/x%0A${forged// /%20}" >/dev/null
raw POST /projects/p/versions "$(fn "\"y\\n$forged\"")" >/dev/null
api GET /projects >/dev/null # one more line after them, so the log is flushed past them
log="$MN_WORK/names.log"
wait_until 5 "the request lines in the log" grep -q 'x\\x0a2026-01-01T00:00:00.000000Z error main: forged' "$log"
! grep -q "^$forged" "$log" || fail "a client forged a log line: $(grep "^$forged" "$log")"
! grep -q "$(printf '\x1b')" "$log" || fail "an escape character reached the log"
bad=$(grep -vc '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T' "$log" || true)
[ "$bad" = 0 ] || fail "$bad log lines do not start with a timestamp"
pass "log: every line starts with its own timestamp; the path was written $(grep -o 'GET /projects/x\\x0a[^ ]*' "$log" | head -n1)"
