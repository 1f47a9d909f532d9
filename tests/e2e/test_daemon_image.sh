#!/usr/bin/env bash
# The control plane as a container (docs/deploy.md): scripts/daemon-image.sh
# builds multinode:<tag> in a private Docker Engine; two containers of it
# (host network) share one Postgres started here, with every setting from the
# environment. Checks: --migrate applies the schema and exits (and refuses an
# unset variable or an unreachable database with a clear message and exit 1);
# /readyz shows one scheduler active and one standby; an invocation runs
# inside a container (local provider, uid 10001); after `docker kill` of the
# active container an invocation created through the other SUCCEEDS within
# 10 s; SIGTERM drains: with a request held in flight (a row lock in
# Postgres), the stopping daemon refuses new connections, the standby becomes
# active while the stopping one still runs (the lock was handed over, not
# lost), the held request is answered 200, then the daemon exits 0.
# The daemon speaks systemd's notify protocol (deploy/systemd, Type=notify):
# with NOTIFY_SOCKET (a socket mounted into mn-b) it sends READY=1 once it
# serves and STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

MN_KEY=e2e-daemon-image-key-0123456789
docker_engine_up
image=multinode:e2e
"$MN_SOURCE_DIR/scripts/daemon-image.sh" --bin-dir "$MN_BIN_DIR" --tag "$image" >/dev/null ||
  fail "scripts/daemon-image.sh failed"
[ "$(docker image inspect "$image" --format '{{.Config.User}} {{json .Config.Entrypoint}}')" = \
  '10001:10001 ["/usr/local/bin/multinoded"]' ] || fail "the image's user or entrypoint"
pass "image built: $(docker image inspect "$image" --format '{{.Size}}') bytes, user 10001, entrypoint multinoded"

# deploy/docker/Dockerfile is not built here (it pulls debian): the script
# applies its runtime settings; what it builds and copies must exist
df=$MN_SOURCE_DIR/deploy/docker/Dockerfile
targets=$(cmake --build "$MN_BUILD_DIR" --target help | sed -n 's/^\.\.\. //p; s/^\([A-Za-z0-9_.-]*\): .*/\1/p')
for t in $(sed -n 's/.*--target \(.*\)$/\1/p; s/^ *\(mn_provider_[a-z0-9_ ]*\)$/\1/p' "$df" | tr -d '\\'); do
  grep -qx "$t" <<<"$targets" || fail "the Dockerfile builds \"$t\", no target of this build"
done
grep -q '^option(MN_TESTS ' "$MN_SOURCE_DIR/CMakeLists.txt" && grep -q -- '-DMN_TESTS=OFF' "$df" ||
  fail "the Dockerfile's -DMN_TESTS=OFF is no option of the build"
for f in $(sed -n 's/^COPY \(deploy\/[^ ]*\) .*/\1/p' "$df"); do
  [ -f "$MN_SOURCE_DIR/$f" ] || fail "the Dockerfile copies $f, which does not exist"
done

# ---- one Postgres on 127.0.0.1 (Debian's server)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
pgport=$(free_port)
mkdir -p "$MN_WORK/pg" && chown postgres: "$MN_WORK/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$MN_WORK/pg/data" -U postgres -A trust >/dev/null ||
  fail "initdb"
runuser -u postgres -- "$pgbin/pg_ctl" -D "$MN_WORK/pg/data" -l "$MN_WORK/pg/log" -w -t 60 start \
  -o "-k $MN_WORK/pg -p $pgport -c listen_addresses=127.0.0.1" >/dev/null || fail "postgres did not start"
on_exit "runuser -u postgres -- '$pgbin/pg_ctl' -D '$MN_WORK/pg/data' stop -m immediate >/dev/null 2>&1"
dsn="host=127.0.0.1 port=$pgport user=postgres dbname=postgres"
psql_q() { psql -X -q -At "$dsn" -c "$1"; }

# run_mn ARGS...: a container of the image with the two required settings
run_mn() {
  docker run --network host -e MULTINODE_POSTGRES_DSN="$dsn" -e MULTINODE_API_KEY="$MN_KEY" "$@"
}
cfg=/etc/multinode/multinoded.yaml

# ---- --migrate, and its bad inputs
out=$(docker run --rm --network host -e MULTINODE_API_KEY="$MN_KEY" "$image" --migrate --config $cfg 2>&1) &&
  fail "--migrate without MULTINODE_POSTGRES_DSN succeeded: $out"
grep -q 'store.postgres.dsn_env: environment variable "MULTINODE_POSTGRES_DSN" is not set' <<<"$out" ||
  fail "--migrate without MULTINODE_POSTGRES_DSN: $out"
out=$(docker run --rm --network host -e MULTINODE_API_KEY="$MN_KEY" \
  -e MULTINODE_POSTGRES_DSN="host=127.0.0.1 port=1 user=postgres connect_timeout=2" "$image" --migrate --config $cfg 2>&1) &&
  fail "--migrate against a closed port succeeded: $out"
grep -q "multinoded --migrate: .*127.0.0.1" <<<"$out" || fail "--migrate, closed port: $out"
[ -z "$(psql_q "SELECT to_regclass('schema_migrations')")" ] || fail "schema present before --migrate"
out=$(run_mn --rm "$image" --migrate --config $cfg 2>/dev/null) || fail "--migrate failed"
known=$(sed -n 's/^schema at version \([0-9]*\) (this daemon knows \([0-9]*\))$/\2/p' <<<"$out")
[ -n "$known" ] && [ "$out" = "schema at version $known (this daemon knows $known)" ] ||
  fail "--migrate printed: $out"
[ "$(psql_q 'SELECT max(number) FROM schema_migrations')" = "$known" ] || fail "schema not applied"
pass "--migrate: schema at $known, refused without MULTINODE_POSTGRES_DSN or a database"

# ---- two daemons
declare -A port=([a]=$(free_port) [b]=$(free_port))
# a unix datagram socket standing in for systemd, for mn-b
/usr/bin/python3 -u -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
open(sys.argv[1] + ".up", "w").close()
while True:
    print(s.recv(4096).decode(), flush=True)' "$MN_WORK/notify" >"$MN_WORK/notified" 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_until 10 "the notify socket" test -e "$MN_WORK/notify.up"
declare -A extra=([a]="" [b]="-v $MN_WORK/notify:/run/notify -e NOTIFY_SOCKET=/run/notify")
start_mn() { # NAME: a detached container listening on its port
  # shellcheck disable=SC2086
  run_mn -d --name "mn-$1" ${extra[$1]} -e MULTINODE_LISTEN="127.0.0.1:${port[$1]}" \
    -e MULTINODE_PUBLIC_URL="http://127.0.0.1:${port[$1]}" -e MULTINODE_LOG_LEVEL=debug \
    "$image" >/dev/null || fail "cannot start container mn-$1"
}
role() { curl -s --max-time 2 "http://127.0.0.1:${port[$1]}/readyz" | jq -r '"\(.ready) \(.scheduler)"'; }
role_is() { [ "$(role "$1")" = "$2" ]; }
readyz_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${port[$1]}/readyz"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

start_mn a
wait_until 30 "mn-a to be ready and active" role_is a "true active"
start_mn b
wait_until 30 "mn-b to be ready" role_is b "true standby"
wait_until 10 "READY=1 from mn-b" grep -qx "READY=1" "$MN_WORK/notified"
role_is a "true active" || fail "a: $(role a)"
[ "$(readyz_status a) $(readyz_status b)" = "200 200" ] || fail "readyz status"
pass "/readyz: a active, b standby, both ready (200)"

MN_URL=http://127.0.0.1:${port[a]}
lc_deploy img "[$(lc_fn who 'echo "$(id -u) $(cat)"' 10 0 60)]"
id=$(lc_start who first)
lc_wait_terminated 20 who "$id"
[ "$(lc_field who "$id" 'j["executions"][0]["output"]')" = "10001 first" ] ||
  fail "invocation inside the container: $(lc_inv who "$id")"
pass "an invocation ran inside mn-a as uid 10001"

# ---- kill the active container: the other schedules within 10 s
t0=$(ms)
docker kill mn-a >/dev/null
MN_URL=http://127.0.0.1:${port[b]}
id=$(lc_start who after-kill)
wait_for 10 lc_terminated who "$id" || fail "no result within 10 s of the kill: $(lc_inv who "$id")"
took=$(( $(ms) - t0 ))
[ "$(lc_field who "$id" 'j["executions"][0]["output"]')" = "10001 after-kill" ] ||
  fail "invocation after the kill: $(lc_inv who "$id")"
role_is b "true active" || fail "b after the kill: $(role b)"
pass "mn-a killed; an invocation through mn-b SUCCEEDED $took ms later"

# ---- SIGTERM drains mn-b (active) while a request is held in flight
docker start mn-a >/dev/null
wait_until 30 "mn-a back, standing by" role_is a "true standby"
coproc HOLD { psql -X -q -At "$dsn" 2>&1; }
echo "BEGIN; SELECT 'locked' FROM functions WHERE function_name = 'who' FOR UPDATE;" >&"${HOLD[1]}"
read -r -t 10 line <&"${HOLD[0]}" && [ "$line" = locked ] || fail "cannot lock the function row: $line"
curl -s --max-time 60 -o "$MN_WORK/held.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $MN_KEY" \
  -H 'Content-Type: application/json' --data '{"input":"held"}' \
  "$MN_URL$LC_BASE/functions/who/invocations" >"$MN_WORK/held.status" &
held=$!
wait_for 20 test "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")" -ge 1 ||
  fail "the POST did not wait on the row lock: curl $(kill -0 $held 2>/dev/null && echo running || echo ended)," \
    "HTTP $(cat "$MN_WORK/held.status" 2>/dev/null) $(cat "$MN_WORK/held.json" 2>/dev/null);" \
    "sessions: $(psql_q "SELECT string_agg(state || '/' || coalesce(wait_event, '-') || ': ' || left(query, 60), ' | ') FROM pg_stat_activity WHERE datname = 'postgres'")"
t0=$(ms)
docker kill --signal TERM mn-b >/dev/null
wait_until 10 "mn-a to take the scheduler over from the draining mn-b" role_is a "true active"
took=$(( $(ms) - t0 ))
[ "$(docker inspect -f '{{.State.Running}}' mn-b)" = true ] || fail "mn-b exited before its request was answered: $(docker logs mn-b 2>&1 | grep -A45 "ERROR: AddressSanitizer" || docker logs mn-b 2>&1 | tail -n 30)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${port[b]}/healthz" || true)
[ "$code" = 000 ] || fail "the draining mn-b accepted a new connection (HTTP $code)"
echo "COMMIT;" >&"${HOLD[1]}"
exec {HOLD[1]}>&-
wait "$held" || true
[ "$(cat "$MN_WORK/held.status")" = 200 ] ||
  fail "held request: HTTP $(cat "$MN_WORK/held.status") $(cat "$MN_WORK/held.json"); mn-b: $(docker logs mn-b 2>&1 | grep -A45 "ERROR: AddressSanitizer" || docker logs mn-b 2>&1 | tail -n 30)"
[ "$(docker wait mn-b)" = 0 ] ||
  fail "mn-b exit status $(docker inspect -f '{{.State.ExitCode}}' mn-b): $(docker logs mn-b 2>&1 | tail -n 30)"
# Read the whole log before searching it: under pipefail, `docker logs | grep -q`
# fails when grep stops reading at the match and docker logs gets SIGPIPE.
docker logs mn-b >"$MN_WORK/mn-b.log" 2>&1
grep -q "received signal 15, stopping" "$MN_WORK/mn-b.log" || fail "mn-b did not log the SIGTERM: $(tail -n 20 "$MN_WORK/mn-b.log")"
[ "$(tr '\n' ' ' <"$MN_WORK/notified")" = "READY=1 STOPPING=1 " ] || fail "notified: $(cat "$MN_WORK/notified")"
held_id=$(jq -r .invocation_id "$MN_WORK/held.json")
MN_URL=http://127.0.0.1:${port[a]}
lc_wait_terminated 20 who "$held_id"
[ "$(lc_field who "$held_id" 'j["executions"][0]["output"]')" = "10001 held" ] ||
  fail "the held invocation: $(lc_inv who "$held_id")"
pass "SIGTERM: mn-b refused new connections, mn-a active after $took ms, the held POST answered 200 and ran, mn-b exited 0; READY=1 and STOPPING=1 sent"
