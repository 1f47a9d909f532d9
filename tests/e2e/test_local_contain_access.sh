#!/usr/bin/env bash
# Contained local workers (docs/security.md, "Local workers"), with a real
# daemon started as root, its embedded Postgres and the real worker:
#  1. a task runs as nobody (id -u is not 0), in a private working
#     directory (0700, its own, also its HOME) and cannot list data_dir,
#     read its own record or log, read the configuration file (0644 here, as
#     an operator may leave it: the daemon hides it from the workers), reach
#     the Postgres socket, read the daemon's or its worker's environment, or
#     signal the daemon;
#  2. the embedded Postgres takes peer authentication only: root (the
#     daemon's user) connects as postgres, nobody is refused even with the
#     socket's folders opened to it; pg_hba.conf holds no trust;
#  3. the working directory is kept with the record, and removed with it
#     once the retention has passed;
#  4. `user: root` is refused without allow_root (the daemon does not start;
#     --check-config names file:line:col), an unknown user too; with
#     allow_root: true tasks run as root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

daemon_config a "$LC_SCHED_YAML
providers:
  local:
    retention: 2s"
chmod 644 "$MN_WORK/a.yaml"
daemon_start a
data=$MN_WORK/data
pidfile=$data/postgres/data/postmaster.pid
sock=$(sed -n 5p "$pidfile")/.s.PGSQL.$(sed -n 4p "$pidfile")
dsn="host=$(dirname "$sock") port=$(sed -n 4p "$pidfile") dbname=multinode user=postgres"
dpid=${MN_PIDS[a]}

# 1. What a task can reach. Each line: "ok WHAT" or "LEAK WHAT: detail".
cat >"$MN_WORK/probe.sh" <<SH
u=\$(id -u); [ "\$u" != 0 ] && echo "ok uid \$u" || echo "LEAK uid 0"
d=\$(pwd)
[ "\$(stat -c '%u %a' .)" = "\$u 700" ] && echo "ok private cwd" || echo "LEAK cwd \$d: \$(stat -c '%u %a' .)"
[ "\$HOME" = "\$d" ] && echo "ok home" || echo "LEAK HOME=\$HOME (cwd \$d)"
echo mine >file-of-the-task
try() { # try WHAT CMD...: the command must fail
  what=\$1; shift
  if out=\$("\$@" 2>&1); then echo "LEAK \$what: \$(echo "\$out" | head -c 200 | tr '\n' ' ')"; else echo "ok \$what"; fi
}
try "list data_dir" ls "$data"
try "list the provider folder" ls "$data/local"
try "read its record" python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.multinode.record"))' "$data/local/\$MULTINODE_EXECUTION_ID.log"
try "read its log" cat "$data/local/\$MULTINODE_EXECUTION_ID.log"
try "list the working directories" ls "$data/local/work"
try "read the config" cat "$MN_WORK/a.yaml"
try "list postgres" ls "$data/postgres"
try "connect to postgres" python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$sock"
try "psql" psql -X -A -t "$dsn" -c "select 1"
try "read the daemon's environment" cat /proc/$dpid/environ
w=\$PPID # the worker: the nearest multinode-worker above us
while [ "\$w" -gt 1 ] && ! grep -q '^Name:.multinode-worke' /proc/\$w/status; do w=\$(awk '/^PPid:/ {print \$2}' /proc/\$w/status); done
[ "\$w" -gt 1 ] && echo "ok found the worker" || echo "LEAK no worker above the task"
try "read the worker's environment" cat /proc/\$w/environ
try "list the worker's descriptors" ls /proc/\$w/fd
try "signal the daemon" kill -0 $dpid
try "write in data_dir" touch "$data/planted"
SH
chmod 644 "$MN_WORK/probe.sh"
lc_deploy contain "[$(lc_fn probe "sh $MN_WORK/probe.sh")]"
id=$(lc_start probe)
lc_wait_terminated 60 probe "$id"
out=$(lc_field probe "$id" 'j["executions"][0]["output"]')
[ "$(lc_outcomes probe "$id")" = SUCCEEDED ] || fail "probe: $(lc_inv probe "$id")"
echo "$out" | sed 's/^/    /'
! grep -q '^LEAK' <<<"$out" || fail "the task reached what it must not: $(grep '^LEAK' <<<"$out")"
[ "$(grep -c '^ok' <<<"$out")" = 18 ] || fail "the probe did not run every check"
exe=$(lc_field probe "$id" 'j["executions"][0]["execution_id"]')
work=$data/local/work/$exe
[ "$(stat -c '%U %a' "$work")" = "nobody 700" ] || fail "working directory: $(stat -c '%U %a' "$work")"
[ $(( 0$(stat -c %a "$data") & 7 )) = 1 ] || fail "data_dir mode $(stat -c %a "$data"): others may do more than pass through"
pass "a task runs as nobody in its own 0700 working directory and reaches nothing of the daemon's"

# 2. Postgres: peer authentication, for root (the daemon's user) only.
rules=$(psql -X -A -t "$dsn" -c "select type || ' ' || auth_method || ' ' || array_to_string(options, ',') from pg_hba_file_rules")
[ "$rules" = "local peer map=multinode" ] || fail "pg_hba.conf rules: $rules"
chmod o+x "$data/postgres" "$(dirname "$sock")"
on_exit "chmod o-x '$data/postgres' '$(dirname "$sock")' 2>/dev/null"
refused=$(setpriv --reuid=nobody --regid=nogroup --clear-groups psql -X -A -t "$dsn" -c "select 1" 2>&1) &&
  fail "nobody connected to postgres: $refused"
grep -q 'Peer authentication failed for user "postgres"' <<<"$refused" || fail "nobody: $refused"
chmod o-x "$data/postgres" "$(dirname "$sock")"
pass "postgres: peer authentication only (pg_hba: $rules); nobody refused with the folders open"

# 3. Kept with the log (which holds the record), removed with it past the
#    retention (2 s here; the provider prunes at start).
[ -f "$work/file-of-the-task" ] || fail "the working directory was not kept"
sleep_until_older() { [ $(( $(date +%s) - $(stat -c %Y "$data/local/$exe.log") )) -ge 3 ]; }
wait_until 30 "the release to be older than the retention" sleep_until_older
daemon_kill a
daemon_start a
wait_until 30 "the working directory to be pruned" test ! -e "$work"
[ ! -e "$data/local/$exe.log" ] || fail "the log and record outlived the working directory"
pass "the working directory stayed with the log and record, and went with them after the retention"

# 4. Root only when allowed.
daemon_kill a
daemon_config r "providers:
  local:
    user: root"
line=$(grep -n 'user: root' "$MN_WORK/r.yaml" | cut -d: -f1)
if out=$("$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/r.yaml" 2>&1); then fail "check-config accepted user: root"; fi
grep -q "r.yaml:$line:[0-9]*: providers.local.user: workers would run as root" <<<"$out" ||
  fail "check-config: $out"
if out=$(timeout 60 "$MN_BIN_DIR/multinoded" --config "$MN_WORK/r.yaml" 2>&1); then fail "the daemon started with user: root"; fi
grep -q "allow_root: true" <<<"$out" || fail "daemon: $out"
daemon_config n "providers:
  local:
    user: no-such-user-here"
if out=$("$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/n.yaml" 2>&1); then fail "check-config accepted an unknown user"; fi
grep -q 'n.yaml:[0-9]*:[0-9]*: providers.local.user: no such user "no-such-user-here"' <<<"$out" ||
  fail "check-config: $out"
daemon_config root "$LC_SCHED_YAML
providers:
  local:
    user: root
    allow_root: true"
daemon_start root
lc_deploy asroot "[$(lc_fn who 'id -u')]"
id=$(lc_start who)
lc_wait_terminated 60 who "$id"
[ "$(lc_field who "$id" 'j["executions"][0]["output"]')" = 0 ] || fail "allow_root: $(lc_inv who "$id")"
pass "user: root refused without allow_root (file:line:col), an unknown user too; allowed, tasks run as root"
