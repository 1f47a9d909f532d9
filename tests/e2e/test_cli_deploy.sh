#!/usr/bin/env bash
# multinode deploy / upgrade / undeploy with a project folder (multinode.yaml)
# against a real daemon, and every way they fail:
#  - help and usage errors (exit 2);
#  - bad manifests (tests/data/manifests/*): each problem exactly as
#    FILE:LINE:COL: key.path: message, all of them, exit 1, nothing sent;
#  - the bounds are the server's: the largest values deploy, a function name
#    of 1023 characters deploys and one of 1024 is refused before sending;
#  - deploy: the version id, defaults, ${PROJECT_DIR}, env, provider, and a
#    function that runs a script of the folder; deploy again fails (project
#    exists); upgrade adds a version (--json: the VersionInfo); upgrade of a
#    missing project fails and creates nothing, unless --deploy;
#  - undeploy marks for deletion; undeploy of a missing project fails;
#  - `multinode start` of an unknown function; the daemon down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
: "${MN_SOURCE_DIR:?}"
mn=$MN_BIN_DIR/multinode
[ -x "$mn" ] || fail "no $mn"
data=$MN_SOURCE_DIR/tests/data/manifests

export HOME=$MN_WORK
unset MULTINODE_PROJECT_NAME MULTINODE_VERSION_ID MULTINODE_FUNCTION_NAME \
  MULTINODE_INVOCATION_ID MULTINODE_EXECUTION_ID

# run CMD...: sets $rc, $out (stdout) and $err (stderr)
run() {
  set +e
  "$@" >"$MN_WORK/out" 2>"$MN_WORK/err"; rc=$?
  set -e
  out=$(cat "$MN_WORK/out"); err=$(cat "$MN_WORK/err")
}
expect_rc() { [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1 (stdout: $out) (stderr: $err)"; }
has_err() { grep -qF -- "$1" <<<"$err" || fail "$2: stderr lacks \"$1\": $err"; }
# project_status NAME: the HTTP status of GET /projects/NAME
project_status() { api GET "/projects/$1" >/dev/null; last_status; }

# ------------------------------------------------------------ help, usage
run "$mn" help
expect_rc 0 "help"
for c in deploy upgrade undeploy; do
  grep -q "^  $c " <<<"$out" || fail "help does not list $c: $out"
done
[ "$(grep -c "PROJECT_DIR" <<<"$out" || true)" = 0 ] || fail "help shows a long help: $out"
run "$mn" help deploy
expect_rc 0 "help deploy"
for s in "usage: multinode deploy [OPTIONS] DIR" "multinode.yaml" "memory: 16 GiB" \
  '${PROJECT_DIR}' "is built on the Docker Engine" "--allow-host-paths" "--project-name NAME" "--dry-run"; do
  grep -qF -- "$s" <<<"$out" || fail "help deploy lacks \"$s\": $out"
done
run "$mn" upgrade --help
expect_rc 0 "upgrade --help"; grep -qF -- "--deploy" <<<"$out" || fail "upgrade --help: $out"

run "$mn" deploy --project-name p
expect_rc 2 "deploy without DIR"; has_err "DIR is missing" "deploy without DIR"
run "$mn" deploy "$data/bounds"
expect_rc 2 "deploy without a name"; has_err "--project-name is required" "deploy without a name"
run "$mn" deploy "$data/bounds" --project-name "$(printf 'p%.0s' {1..65})"
expect_rc 2 "a 65-character name"; has_err "is too long: at most 64 characters" "long name"
run "$mn" upgrade "$data/bounds" --project-name p --force
expect_rc 2 "unknown option"; has_err 'unknown option "--force"' "unknown option"
run "$mn" undeploy extra --project-name p
expect_rc 2 "undeploy with an argument"; has_err 'unexpected argument "extra"' "undeploy arg"
run "$mn" undeploy
expect_rc 2 "undeploy without a name"
pass "help lists and explains deploy/upgrade/undeploy; usage errors exit 2"

# ------------------------------------------------------------ bad manifests
# No daemon is needed: the manifest is checked before anything is sent.
export MULTINODE_API_URL=http://127.0.0.1:1 MULTINODE_API_KEY=k
cd "$data"
n_cases=0
for dir in */; do
  dir=${dir%/}
  [ -f "$dir/expected" ] || continue
  for cmd in deploy upgrade; do
    run "$mn" $cmd "$dir" --project-name p
    expect_rc 1 "$cmd $dir"
    [ -z "$out" ] || fail "$cmd $dir: wrote to stdout: $out"
    # every expected line exactly, and no other problem line
    problems=$(grep -v '^error: ' <<<"$err" || true)
    diff <(printf '%s\n' "$problems") "$dir/expected" >"$MN_WORK/diff" ||
      fail "$cmd $dir: problems differ from $dir/expected:
$(cat "$MN_WORK/diff")"
    n=$(wc -l <"$dir/expected")
    want="error: $dir/multinode.yaml: $n problem$([ "$n" = 1 ] || echo s); nothing was"
    has_err "$want" "$cmd $dir"
    grep -q "cannot reach" <<<"$err" && fail "$cmd $dir: contacted the daemon: $err"
  done
  n_cases=$((n_cases + 1))
done
[ "$n_cases" -ge 8 ] || fail "only $n_cases bad manifests found in $data"
cd - >/dev/null
pass "$n_cases bad manifests: every problem as FILE:LINE:COL: key: message, exit 1"

# missing manifest, missing folder, a file instead of a folder
mkdir -p "$MN_WORK/no_manifest"
run "$mn" deploy "$MN_WORK/no_manifest" --project-name p
expect_rc 1 "no multinode.yaml"
has_err "$MN_WORK/no_manifest/multinode.yaml: cannot open: No such file or directory" "no multinode.yaml"
has_err "error: cannot read $MN_WORK/no_manifest/multinode.yaml: a project folder holds one" \
  "no multinode.yaml"
run "$mn" deploy "$MN_WORK/nowhere" --project-name p
expect_rc 1 "no folder"; has_err "$MN_WORK/nowhere: No such file or directory" "no folder"
run "$mn" upgrade "$data/bounds/multinode.yaml" --project-name p
expect_rc 1 "a file as DIR"; has_err "not a folder: give the project folder" "file as DIR"
pass "a missing manifest or folder exits 1 and says what a project folder holds"

# the daemon down: a valid manifest gets as far as the daemon
for args in "deploy $data/bounds --project-name p" "upgrade $data/bounds --project-name p" \
  "upgrade $data/bounds --project-name p --deploy" "undeploy --project-name p"; do
  # shellcheck disable=SC2086
  run "$mn" $args
  expect_rc 6 "$args (daemon down)"
  has_err "cannot reach http://127.0.0.1:1: is multinoded running?" "$args (daemon down)"
  [ -z "$out" ] || fail "$args: wrote to stdout: $out"
done
pass "the daemon down: exit 6, 'cannot reach <url>: is multinoded running?'"

# --dry-run: the version definition, no daemon
run "$mn" deploy "$data/bounds" --project-name p --dry-run
expect_rc 0 "dry run"
jq -e '.default_docker_image == "multinode-worker:local" and (.functions | length == 2) and
  .functions[0].resource_spec == {"virtual_cpus": 16, "memory_gbs": 64, "max_concurrency": 100,
    "max_concurrency_per_key": 100}
  and .functions[0].execution_spec == {"max_retries": 50, "timeout_seconds": 86400,
    "retry_delay_seconds": 86400, "retry_backoff_factor": 100, "retry_max_delay_seconds": 86400,
    "attempt_timeout_seconds": 86400, "queue_timeout_seconds": 86400,
    "heartbeat_timeout_seconds": 86400} and
  .functions[1].execution_spec == {"max_retries": 0, "timeout_seconds": 1} and
  .functions[1].execution_spec.timeout_seconds == 1 and
  .functions[1].command == ["sh", "-c", "true"]' <<<"$out" >/dev/null ||
  fail "dry run definition: $out"
pass "--dry-run prints the definition (a string command runs with sh -c; 0.5s rounds up to 1)"

# ------------------------------------------------------------ a daemon
daemon_start main
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY

# a project folder whose function runs a script of the folder
proj="$MN_WORK/my project"
mkdir -p "$proj"
cat >"$proj/greet.sh" <<'SH'
printf '%s %s from %s' "$GREETING" "$(cat)" "$(basename "$HELPER_DIR")"
SH
cat >"$proj/multinode.yaml" <<'YAML'
functions:
  greet:
    command: ["sh", "${PROJECT_DIR}/greet.sh"]
    provider: local
    env: {GREETING: hello, HELPER_DIR: "${PROJECT_DIR}"}
YAML
run "$mn" deploy "$proj" --project-name demo
expect_rc 0 "deploy"
v1=$out
[[ $v1 == ver-* && ${#v1} == 36 ]] || fail "deploy printed \"$v1\", want a version id"
has_err "deployed project \"demo\": version $v1 with 1 function (greet)" "deploy summary"
ver=$(api GET /projects/demo/versions/latest)
[ "$(last_status)" = 200 ] || fail "GET latest: $(last_status) $ver"
abs=$(cd "$proj" && pwd -P)
jq -e --arg v "$v1" --arg d "$abs" '.version_id == $v and (.functions | length == 1) and
  .functions[0].function_name == "greet" and .functions[0].docker_image == "" and
  .functions[0].resource_spec == {"virtual_cpus": 0.1, "memory_gbs": 0.25, "max_concurrency": 10}
  and .functions[0].execution_spec == {"max_retries": 0, "timeout_seconds": 3600} and
  .functions[0].command == ["sh", ($d + "/greet.sh")] and .functions[0].provider == "local" and
  .functions[0].env == {"GREETING": "hello", "HELPER_DIR": $d}' <<<"$ver" >/dev/null ||
  fail "deployed version: $ver"
pass "deploy prints the version id; defaults 0.1 cpu, 256 MiB, 10, 0 retries, 1h; \${PROJECT_DIR}"

id=$("$mn" start greet --project-name demo --input world) || fail "start greet"
run "$mn" wait --quiet --timeout 60s --project-name demo --function greet "$id"
expect_rc 0 "wait greet"
[ "$out" = "hello world from my project" ] || fail "greet printed \"$out\" ($err)"
pass "the function runs the folder's script through \${PROJECT_DIR}, with its env"

# deploy again: the project exists, no new version
run "$mn" deploy "$proj" --project-name demo
expect_rc 1 "deploy of an existing project"
has_err "project \"demo\" already exists" "deploy again"
has_err "multinode upgrade $proj --project-name demo" "deploy again"
[ -z "$out" ] || fail "deploy again wrote to stdout: $out"
n=$(api GET /projects/demo/versions | jq '.versions | length')
[ "$n" = 1 ] || fail "deploy of an existing project made a version ($n versions)"
pass "deploy of an existing project fails, pointing to upgrade, and creates nothing"

# upgrade: a second version, the latest; --json prints the VersionInfo
sed -i 's/greet:/greet:\n    timeout: 90s\n    max_retries: 2/' "$proj/multinode.yaml"
run "$mn" upgrade "$proj" --project-name demo --json
expect_rc 0 "upgrade --json"
v2=$(jq -r .version_id <<<"$out") || fail "upgrade --json is not JSON: $out"
[[ $v2 == ver-* && $v2 != "$v1" ]] || fail "upgrade: version $v2 (first $v1)"
jq -e '.project_name == "demo" and .functions[0].execution_spec ==
  {"max_retries": 2, "timeout_seconds": 90}' <<<"$out" >/dev/null || fail "VersionInfo: $out"
[ "$(api GET /projects/demo/versions/latest | jq -r .version_id)" = "$v2" ] ||
  fail "latest is not $v2"
run "$mn" upgrade "$proj" --project-name demo
expect_rc 0 "upgrade"
[[ $out == ver-* && $out != "$v2" ]] || fail "upgrade printed \"$out\""
has_err "upgraded project \"demo\": version $out" "upgrade summary"
[ "$(api GET /projects/demo/versions | jq '.versions | length')" = 3 ] || fail "not 3 versions"
pass "upgrade adds a version that becomes the latest (--json: VersionInfo)"

# upgrade of a missing project: fails and creates nothing, unless --deploy
run "$mn" upgrade "$proj" --project-name missing
expect_rc 1 "upgrade of a missing project"
has_err "project \"missing\" does not exist: create it with \`multinode deploy" "upgrade missing"
[ "$(project_status missing)" = 404 ] || fail "upgrade created project missing"
run "$mn" upgrade "$proj" --project-name missing --deploy
expect_rc 0 "upgrade --deploy"
[[ $out == ver-* ]] || fail "upgrade --deploy printed \"$out\""
has_err "deployed project \"missing\"" "upgrade --deploy"
[ "$(project_status missing)" = 200 ] || fail "upgrade --deploy did not create the project"
run "$mn" upgrade "$proj" --project-name missing --deploy
expect_rc 0 "upgrade --deploy of an existing project"
pass "upgrade needs the project unless --deploy, which creates it"

# a bad manifest with the daemon up: nothing is created
run "$mn" deploy "$data/out_of_range" --project-name never
expect_rc 1 "bad manifest, daemon up"
[ "$(project_status never)" = 404 ] || fail "a bad manifest created a project"
pass "a bad manifest sends nothing"

# the server's bounds are the client's: the largest values deploy; a name
# of 1023 characters deploys, one of 1024 is refused by the client
run "$mn" deploy "$data/bounds" --project-name bounds
expect_rc 0 "deploy of the bounds"
long=$MN_WORK/long
mkdir -p "$long"
name=$(printf 'f%.0s' {1..1023})
printf 'functions:\n  %s:\n    command: "true"\n' "$name" >"$long/multinode.yaml"
run "$mn" deploy "$long" --project-name long
expect_rc 0 "a 1023-character function name"
printf 'functions:\n  %sg:\n    command: "true"\n' "$name" >"$long/multinode.yaml"
run "$mn" upgrade "$long" --project-name long
expect_rc 1 "a 1024-character function name"
has_err "$long/multinode.yaml:2:3: functions.${name}g: the function name is too long: at most 1023 characters" \
  "1024-character name"
[ "$(api GET /projects/long/versions | jq '.versions | length')" = 1 ] || fail "long: versions"
pass "bounds as the server's: 16 cpu, 64 GiB, 100, 50, 24h and 1023-character names pass"

# start of an unknown function
run "$mn" start nope --project-name demo --input x
expect_rc 1 "start of an unknown function"
has_err "cannot start \"nope\"" "unknown function"
has_err "(FunctionDoesNotExist)" "unknown function"
has_err "multinode describe --project-name NAME" "unknown function hint"
[ -z "$out" ] || fail "start of an unknown function wrote to stdout: $out"
pass "start of an unknown function: exit 1, FunctionDoesNotExist and a hint"

# undeploy
run "$mn" undeploy --project-name demo
expect_rc 0 "undeploy"
grep -q '^project "demo" is marked for deletion' <<<"$out" || fail "undeploy printed: $out"
info=$(api GET /projects/demo)
case $(last_status) in
  200) jq -e '.deletion_request_time != null' <<<"$info" >/dev/null || fail "not marked: $info" ;;
  404) ;; # already removed
  *) fail "GET demo after undeploy: $(last_status) $info" ;;
esac
run "$mn" undeploy --project-name missing --json
expect_rc 0 "undeploy --json"
jq -e '.project_name == "missing" and .deletion_request_time != null' <<<"$out" >/dev/null ||
  fail "undeploy --json: $out"
run "$mn" undeploy --project-name nobody
expect_rc 1 "undeploy of a missing project"
has_err "(ProjectDoesNotExist)" "undeploy missing"
has_err "multinode list" "undeploy missing hint"
pass "undeploy marks the project for deletion; a missing project fails"

# a project being deleted: kept alive by a command that ignores SIGTERM
# (the grace is the default 120 s) until the test lets it end
doomed=$MN_WORK/doomed
mkdir -p "$doomed"
cat >"$doomed/multinode.yaml" <<YAML
functions:
  hold:
    command: >-
      trap '' TERM; touch $MN_WORK/hold.started; i=0;
      while [ ! -f $MN_WORK/hold.go ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
YAML
"$mn" deploy "$doomed" --project-name doomed >/dev/null 2>&1 || fail "deploy doomed"
"$mn" start hold --project-name doomed >/dev/null || fail "start hold"
wait_until 30 "the hold command started" test -f "$MN_WORK/hold.started"
"$mn" undeploy --project-name doomed >/dev/null || fail "undeploy doomed"
for cmd in deploy upgrade; do
  run "$mn" $cmd "$doomed" --project-name doomed
  expect_rc 1 "$cmd of a project being deleted"
  has_err "project \"doomed\" is being deleted (it was undeployed)" "$cmd doomed"
done
touch "$MN_WORK/hold.go"
pass "deploy/upgrade of a project being deleted fail and say so"

# the daemon stopped: its own URL is unreachable now
daemon_kill main
run "$mn" upgrade "$proj" --project-name demo
expect_rc 6 "upgrade with the daemon stopped"
has_err "cannot reach $MN_URL: is multinoded running?" "daemon stopped"
pass "with the daemon stopped: cannot reach $MN_URL"
