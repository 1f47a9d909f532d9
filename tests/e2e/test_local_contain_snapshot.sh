#!/usr/bin/env bash
# A Python project deployed with `multinode deploy` runs from a read-only
# snapshot; the local provider's workers run as nobody (the daemon is
# root). With the default snapshot root under a home only its owner may
# enter (as /root is), the first attempt fails at prepare with the path and
# the folder in the way, instead of the task dying of "Permission denied";
# deployed again with MULTINODE_SNAPSHOT_DIR pointing at a folder others
# can read, the same function runs; and with a home others may pass
# through, the default root works after `multinode login` (which keeps the
# key in a 0600 file of a 0711 folder) (docs/python.md, docs/security.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
: "${MN_SOURCE_DIR:?}"
py=/usr/bin/python3
"$py" -c 'import jsonpickle' 2>/dev/null || fail "python3-jsonpickle is needed"

daemon_config s "scheduler:
  inspect_interval_ms: 200"
daemon_start s

home=$MN_WORK/home
mkdir -m 0700 "$home" # like /root
proj=$MN_WORK/proj
mkdir -m 0755 "$proj"
cat >"$proj/main.py" <<'PY'
from multinode import Multinode

mn = Multinode()


@mn.function()
def hello(name):
    return f"hello {name}"
PY
export HOME=$home PYTHONPATH=$MN_SOURCE_DIR/python MULTINODE_PYTHON=$py
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
unset MULTINODE_SNAPSHOT_DIR

call() { # call PROJECT: starts hello("world"), waits, prints the invocation
  local inv out
  out=$(api POST "/projects/$1/versions/latest/functions/hello/invocations" '{"input":"[[\"world\"], {}]"}')
  [ "$(last_status)" = 200 ] || fail "start: HTTP $(last_status) $out"
  inv=$(jget "$out" 'j["invocation_id"]')
  ended() { [ "$(jget "$(api GET "/projects/$1/versions/latest/functions/hello/invocations/$2")" \
    'j["invocation_status"]')" = TERMINATED ]; }
  wait_until 60 "invocation $inv to end" ended "$1" "$inv"
  api GET "/projects/$1/versions/latest/functions/hello/invocations/$inv"
}

# 1. The default snapshot root, under a 0700 home.
out=$("$MN_BIN_DIR/multinode" deploy "$proj" --project-name closed 2>&1) || fail "deploy: $out"
snap=$(sed -n 's/^snapshot: //p' <<<"$out")
[ "${snap#"$home"/.multinode/snapshots/}" != "$snap" ] || fail "snapshot not under \$HOME: $out"
grep -qF "warning: other users cannot read the snapshot (\"$home\" is mode 0700)" <<<"$out" ||
  fail "deploy did not warn: $out"
inv=$(call closed)
err=$(jget "$inv" 'j["executions"][0]["error_message"]')
[ "$(jget "$inv" 'j["executions"][0]["outcome"]')" != SUCCEEDED ] || fail "it ran: $inv"
grep -qF "the workers run as \"nobody\", who cannot" <<<"$err" || fail "error: $err"
grep -qF "(blocked at \"$home\")" <<<"$err" || fail "the error does not name $home: $err"
grep -qF "MULTINODE_SNAPSHOT_DIR" <<<"$err" || fail "the error does not say what to do: $err"
pass "snapshot under a 0700 home: the attempt failed at prepare: $err"

# 2. The same project, snapshotted where others can read.
export MULTINODE_SNAPSHOT_DIR=$MN_WORK/snapshots
out=$("$MN_BIN_DIR/multinode" deploy "$proj" --project-name open 2>&1) || fail "deploy: $out"
inv=$(call open)
[ "$(jget "$inv" 'j["executions"][0]["outcome"]')" = SUCCEEDED ] || fail "open: $inv"
[ "$(jget "$inv" 'j["executions"][0]["output"]')" = '"hello world"' ] || fail "output: $inv"
! grep -q "warning: other users" <<<"$out" || fail "deploy warned: $out"
pass "with MULTINODE_SNAPSHOT_DIR=$MULTINODE_SNAPSHOT_DIR the same function ran as nobody"

# 3. A home others may pass through, logged in, the default snapshot root.
unset MULTINODE_SNAPSHOT_DIR
export HOME=$MN_WORK/home2
mkdir -m 0755 "$HOME"
printf '%s\n%s\n' "$MN_URL" "$MN_KEY" | "$MN_BIN_DIR/multinode" login >/dev/null || fail "login"
[ "$(stat -c %a "$HOME/.multinode")" = 711 ] || fail "~/.multinode is $(stat -c %a "$HOME/.multinode")"
[ "$(stat -c %a "$HOME/.multinode/config.json")" = 600 ] || fail "config.json is not 0600"
out=$("$MN_BIN_DIR/multinode" deploy "$proj" --project-name home 2>&1) || fail "deploy: $out"
! grep -q "warning: other users" <<<"$out" || fail "deploy warned: $out"
inv=$(call home)
[ "$(jget "$inv" 'j["executions"][0]["output"]')" = '"hello world"' ] || fail "home: $inv"
pass "logged in, a 0755 home: the default ~/.multinode/snapshots ran as nobody, the key file 0600"
