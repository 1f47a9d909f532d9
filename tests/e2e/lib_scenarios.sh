# Helpers for the acceptance scenarios of docs/compatibility.md §7 (tests/e2e/
# scenarios/*.sh): a real daemon with the provider $SC_PROVIDER (default
# local), real multinode-worker processes, and one shell script as the command
# of every function. Source after lib.sh and lib_daemon.sh.
#
# The provider is described by tests/e2e/providers/$SC_PROVIDER.sh, which
# defines:
#   prov_setup                    starts the provider's backend (an engine, a
#                                 simulator); cleans up through on_exit
#   prov_yaml                     prints the daemon's `providers:` section
#   SC_IMAGE                      the image of the scenario functions
#   prov_kill_worker ID           SIGKILLs the worker of invocation ID, as a
#                                 hardware failure would
#   prov_worker_gone ID           true once nothing of ID's worker runs (its
#                                 command wrote "$$ $PPID" to $MN_WORK/ID.pids)
#   prov_bad_function NAME RETRIES / prov_bad_message NAME
#                                 a function JSON the provider cannot prepare or
#                                 launch, and the error_message that gives
#   prov_worker_log DETAILS_JSON  (optional) the worker's log by its details
# Its workers start through tests/e2e/worker-hold.sh (held while the file
# $MN_HOLD_FILE exists), see $MN_WORK at the same path, and have sh, the
# usual tools, multinode and multinode-worker on PATH.
#
#   sc_daemon GRACE [EXTRA_YAML]  starts the daemon "main" with
#                                 scheduler.termination_grace_seconds GRACE
#   sc_deploy PROJECT TIMEOUT     creates PROJECT when missing and a version of
#                                 the original's three functions (standard,
#                                 concurrency-limited, retryable) with TIMEOUT
#                                 seconds; prints the version id
#   invoke PROJECT VERSION FUNCTION INPUT   prints the new invocation's id
#   inv ID                        GET the invocation (its path is kept in
#                                 $MN_WORK/bases/ID; `adopt ID PATH` for a child
#                                 started by a command; all_invocations lists them)
#   field ID JQ / execution ID EXE   one raw value / GET the ExecutionInfo
#   check ID JQ                   true when JQ holds on the invocation
#   expect ID JQ WHAT [JQ_ARGS]   fails (showing the invocation) unless JQ holds
#   wait_inv SECS ID JQ WHAT      waits until JQ holds on the invocation
#   hold_for SECS WHAT CMD...     fails if CMD stops holding within SECS
#   cli_status ID                 the derived status printed by `multinode get`
#   check_exec_order ID           executions strictly in creation order (µs)
#   started ID / go ID            the command's coordination files
#   gone PID                      the process has exited (a zombie counts)
#
# The command (fn.sh) reads its input "ACTION": every action touches
# $MN_WORK/<invocation>.started and most wait (bounded) for <invocation>.go.
: "${MN_WORK:?source lib_daemon.sh first}"
SC_PROVIDER=${SC_PROVIDER:-local}
. "$(dirname "${BASH_SOURCE[0]}")/providers/$SC_PROVIDER.sh"
SC_FN=$MN_WORK/fn.sh
mkdir -p "$MN_WORK/bases" # invocation id -> its function path (invoke runs in $(...))

cat >"$SC_FN" <<SH
# The command of every function; the input is the action to take.
W=$MN_WORK
me=\$W/\$MULTINODE_INVOCATION_ID
action=\$(cat)
wait_go() {
  i=0
  while [ ! -f "\$me.go" ]; do
    i=\$((i + 1)); [ \$i -le 300 ] || { echo "no go file after 60 s" >&2; exit 9; }
    sleep 0.2
  done
}
case "\$action" in
progress-then-succeed)
  touch "\$me.started"
  multinode progress partial || exit 5
  touch "\$me.progressed"; wait_go; echo "final output" ;;
fail)
  touch "\$me.started"; wait_go; echo "stdout is not the error"
  echo "something went wrong" >&2; exit 3 ;;
hold)
  touch "\$me.started"; wait_go; echo "done" ;;
trap-exit)
  trap 'touch "\$me.signalled"; echo aborted; exit 0' TERM
  touch "\$me.started"; wait_go; echo "done" ;;
log-trap)
  trap 'echo "cleanup on SIGTERM" >&2; touch "\$me.signalled"; exit 0' TERM
  echo "log line before the end 1" >&2; echo "log line before the end 2" >&2
  touch "\$me.started"; wait_go; echo "done" ;;
hold-through-term)
  trap 'touch "\$me.signalled"' TERM
  touch "\$me.started"; wait_go; echo "done" ;;
ignore-term)
  trap '' TERM
  echo "\$\$ \$PPID" >"\$me.pids"; touch "\$me.started"
  i=0; while [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done; echo "never killed" ;;
parent)
  trap 'touch "\$me.signalled"; exit 0' TERM
  multinode start standard --input trap-exit >"\$me.child.tmp" || exit 4
  mv "\$me.child.tmp" "\$me.child"; touch "\$me.started"; wait_go; echo "done" ;;
fail-once)
  touch "\$me.started"
  if [ ! -f "\$me.failed-once" ]; then
    touch "\$me.failed-once"; echo "first attempt fails" >&2; exit 1
  fi
  echo "second attempt succeeds" ;;
crash-once)
  touch "\$me.started"
  if [ ! -f "\$me.crashed-once" ]; then
    touch "\$me.crashed-once"; echo \$PPID >"\$me.worker.tmp"; mv "\$me.worker.tmp" "\$me.worker"
    wait_go; exit 0
  fi
  echo "after the crash" ;;
*) echo "unknown action: \$action" >&2; exit 2 ;;
esac
SH

sc_daemon() {
  prov_setup
  daemon_config main "scheduler:
  termination_grace_seconds: $1
$(prov_yaml)
${2:-}"
  daemon_start main
  export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
}

# call METHOD PATH [BODY]: the body of a 2xx answer, or fail.
call() {
  local body
  body=$(api "$@")
  [ "$(last_status | cut -c1)" = 2 ] || fail "$1 $2 answered $(last_status): $body"
  printf '%s' "$body"
}

sc_function() { # NAME CONCURRENCY RETRIES TIMEOUT
  printf '{"function_name":"%s","command":["sh","%s"],
    "resource_spec":{"virtual_cpus":1,"memory_gbs":4,"max_concurrency":%d},
    "execution_spec":{"max_retries":%d,"timeout_seconds":%d},
    "env":{"MN_HOLD_FILE":"%s"}}' "$1" "$SC_FN" "$2" "$3" "$4" "$MN_WORK/hold-workers"
}

sc_deploy() {
  local project=$1 timeout=$2 v
  api GET "/projects/$project" >/dev/null
  [ "$(last_status)" = 200 ] || call PUT "/projects/$project" >/dev/null
  v=$(call POST "/projects/$project/versions" "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
    $(sc_function standard 100 0 "$timeout"),
    $(sc_function concurrency-limited 1 0 "$timeout"),
    $(sc_function retryable 100 5 "$timeout")]}" | jq -r .version_id)
  [[ $v == ver-* ]] || fail "no version id for $project"
  echo "$v"
}

invoke() {
  local base=/projects/$1/versions/$2/functions/$3 id
  id=$(call POST "$base/invocations" "$(jq -nc --arg i "$4" '{input: $i}')" | jq -r .invocation_id)
  [[ $id == inv-* ]] || fail "no invocation id from $base"
  echo "$base" >"$MN_WORK/bases/$id"
  echo "$id"
}

# Invocation ids are recorded by invoke; a child's base is given to adopt.
adopt() { echo "$2" >"$MN_WORK/bases/$1"; }
base_of() { cat "$MN_WORK/bases/$1" 2>/dev/null || fail "unknown invocation $1"; }
all_invocations() { ls "$MN_WORK/bases"; }
inv() { call GET "$(base_of "$1")/invocations/$1"; }
check() { inv "$1" | jq -e "$2" >/dev/null; }
expect() { # ID JQ WHAT [JQ_ARGS...]
  local j; j=$(inv "$1")
  jq -e "${@:4}" "$2" >/dev/null <<<"$j" || fail "$3: $1 fails $2: $(jq -c . <<<"$j")"
}
wait_inv() {
  wait_for "$1" check "$2" "$3" || fail "timed out after $1 s waiting for: $4 ($2: $(inv "$2" | jq -c .))"
}
# field ID JQ: one value of the invocation, raw
field() { inv "$1" | jq -r "$2"; }
execution() { call GET "$(base_of "$1")/invocations/$1/executions/$2"; }

hold_for() {
  local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )) what=$2
  shift 2
  while [ $(( $(date +%s%N) / 1000000 )) -lt $end ]; do
    "$@" >/dev/null 2>&1 || fail "no longer true: $what"
    sleep 0.05
  done
}

cli_status() {
  local base p v f
  base=$(base_of "$1")
  IFS=/ read -r _ _ p _ v _ f <<<"$base"
  local out rc=0 status want
  out=$("$MN_BIN_DIR/multinode" get --json --project-name "$p" --version-id "$v" \
    --function-name "$f" "$1") || rc=$?
  status=$(jq -r .status <<<"$out") || fail "get $1: not JSON: $out"
  # get's exit status tells the outcome (README: 0 succeeded or still
  # running, 1 failed, 3 cancelled, 4 timed out)
  case $status in
    FAILED) want=1 ;; CANCELLED) want=3 ;; "TIMED OUT") want=4 ;; *) want=0 ;;
  esac
  [ "$rc" = "$want" ] || fail "get $1: status $status, but exit status $rc (not $want)"
  printf '%s\n' "$status"
}
expect_status() {
  local got; got=$(cli_status "$1")
  [ "$got" = "$2" ] || fail "$3: multinode get says $got, expected $2"
}

check_exec_order() {
  expect "$1" '[.executions[].creation_time_us] as $t |
    all(range(1; $t | length); $t[.] > $t[. - 1]) and
    ([.executions[].creation_time] as $s | $s == ($s | sort))' "executions in creation order"
}

# gone PID: the process has exited (a zombie counts)
gone() { [ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" = Z ]; }
started() { test -f "$MN_WORK/$1.started"; }
go() { touch "$MN_WORK/$1.go"; }
wait_started() { wait_until "${2:-30}" "the command of $1 to start" started "$1"; }
