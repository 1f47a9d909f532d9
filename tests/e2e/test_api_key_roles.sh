#!/usr/bin/env bash
# Operator keys with roles (docs/security.md, "Operator keys"): server.api_keys
# entries given as SHA-256 digests or through the environment, with the
# roles admin, invoker (limited to its projects) and reader (GET only);
# keys reloaded on SIGHUP without dropping a kept-alive connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

MN_KEY=admin-key-0123456789
INV_KEY=invoker-key-0123456789
RD_KEY=reader-key-0123456789
LATE_KEY=late-key-0123456789ab
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
export INV_KEY
keys_yaml() { # the server.api_keys section: invoker, and reader or late
  cat <<YAML
  api_keys:
    - name: shop-invoker
      key_env: INV_KEY
      role: invoker
      projects: [shop]
    - name: ${1:-reader}
      sha256: $(sha "${2:-$RD_KEY}")
      role: reader
YAML
}
daemon_config main
python3 - "$MN_WORK/main.yaml" "$(keys_yaml)" <<'PY'
import sys
path, keys = sys.argv[1], sys.argv[2]
text = open(path).read().replace("  api_key: admin-key-0123456789\n",
                                 "  api_key: admin-key-0123456789\n" + keys + "\n")
open(path, "w").write(text)
PY
chmod 600 "$MN_WORK/main.yaml"
daemon_start main

as() { # KEY METHOD PATH [BODY]: prints the HTTP status
  curl -s -o "$MN_WORK/last" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' ${4:+--data "$4"} "$MN_URL$3"
}
expect() { # WANT KEY METHOD PATH [BODY]
  local want=$1; shift
  local got; got=$(as "$@")
  [ "$got" = "$want" ] || fail "$2 $3 with key ${1:0:8}…: $got, want $want ($(cat "$MN_WORK/last"))"
}
fn='{"default_docker_image":"none","functions":[{"function_name":"f","command":["true"],
  "resource_spec":{"virtual_cpus":0.1,"memory_gbs":0.25,"max_concurrency":2},
  "execution_spec":{"max_retries":0,"timeout_seconds":60}}]}'
for p in shop other; do
  expect 200 "$MN_KEY" PUT "/projects/$p"
  expect 200 "$MN_KEY" POST "/projects/$p/versions" "$fn"
done
shop=/projects/shop/versions/latest/functions/f
other=/projects/other/versions/latest/functions/f

# invoker, limited to shop
expect 200 "$INV_KEY" POST "$shop/invocations" '{"input":""}'
id=$(jq -r .invocation_id "$MN_WORK/last")
expect 200 "$INV_KEY" GET "$shop/invocations/$id"
expect 200 "$INV_KEY" GET "$shop/invocations"
expect 200 "$INV_KEY" GET /projects/shop/versions/latest
expect 403 "$INV_KEY" POST "$other/invocations" '{"input":""}'
grep -q 'key \\"shop-invoker\\" may not touch project \\"other\\"' "$MN_WORK/last" ||
  fail "detail: $(cat "$MN_WORK/last")"
expect 403 "$INV_KEY" GET /projects/other
expect 403 "$INV_KEY" PUT /projects/evil
expect 403 "$INV_KEY" DELETE /projects/shop
expect 403 "$INV_KEY" POST /projects/shop/versions "$fn"
expect 403 "$INV_KEY" GET /container_repository_credentials
expect 200 "$INV_KEY" GET /projects
[ "$(jq -c '[.projects[].project_name]' "$MN_WORK/last")" = '["shop"]' ] ||
  fail "the invoker's project list: $(cat "$MN_WORK/last")"
done_ok() { api GET "$shop/invocations/$id" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
wait_until 30 "the invocation to end" done_ok
exe=$(api GET "$shop/invocations/$id" | jq -r .executions[0].execution_id)
expect 200 "$INV_KEY" GET "$shop/invocations/$id/executions/$exe/logs"
expect 403 "$INV_KEY" PUT "$shop/invocations/$id/executions/$exe/finish" '{"outcome":"SUCCEEDED"}'
# the id alone (GET /invocations/{id}, /executions/{id}): within the key's
# projects; another project's id is not found for it
expect 200 "$INV_KEY" GET "/invocations/$id"
[ "$(jq -r '.project_name + " " + .function_name' "$MN_WORK/last")" = "shop f" ] || fail "by id: $(cat "$MN_WORK/last")"
expect 200 "$INV_KEY" GET "/executions/$exe"
expect 200 "$MN_KEY" POST "$other/invocations" '{"input":""}'
other_id=$(jq -r .invocation_id "$MN_WORK/last")
expect 404 "$INV_KEY" GET "/invocations/$other_id"
grep -q '"An invocation with this ID does not exist' "$MN_WORK/last" || fail "by id, other project: $(cat "$MN_WORK/last")"
expect 200 "$MN_KEY" GET "/invocations/$other_id"
pass "invoker: starts, reads, lists in its project; refused other projects, project and version changes, credentials, worker calls; lists only its projects; ids alone only within its projects"

# reader, given as a digest: GET only
expect 200 "$RD_KEY" GET /projects
[ "$(jq '.projects | length' "$MN_WORK/last")" = 2 ] || fail "reader list: $(cat "$MN_WORK/last")"
expect 200 "$RD_KEY" GET "$other/invocations"
expect 403 "$RD_KEY" POST "$shop/invocations" '{"input":""}'
expect 403 "$RD_KEY" PUT "$shop/invocations/$id/cancel"
expect 403 "$RD_KEY" PUT /projects/x
expect 403 "$RD_KEY" GET /container_repository_credentials
expect 403 "${RD_KEY}x" GET /projects
grep -q '"The API key is invalid"' "$MN_WORK/last" || fail "a wrong key: $(cat "$MN_WORK/last")"
expect 200 "$MN_KEY" PUT /projects/admin-made
pass "reader (SHA-256 in the config): GET only; a wrong key gets the original's 403"
if grep -qF -e "$INV_KEY" -e "$RD_KEY" -e "$MN_KEY" "$MN_WORK/main.log"; then fail "a key is in the log"; fi

# SIGHUP: the reader goes, a new key comes; a kept-alive connection stays
python3 - "$MN_URL" "$MN_KEY" "$MN_WORK" "$LATE_KEY" "$RD_KEY" "${MN_PIDS[main]}" <<'PY' || fail "SIGHUP reload"
import http.client, json, os, signal, sys, time, urllib.parse
url, admin, work, late, reader, pid = sys.argv[1:7]
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
def get(key):
    conn.request("GET", "/projects", headers={"Authorization": f"Bearer {key}"})
    r = conn.getresponse(); r.read(); return r.status
assert get(admin) == 200
sock = conn.sock
path = os.path.join(work, "main.yaml")
text = open(path).read().replace("name: reader", "name: late")
import hashlib
text = text.replace(hashlib.sha256(reader.encode()).hexdigest(), hashlib.sha256(late.encode()).hexdigest())
open(path, "w").write(text)
os.kill(int(pid), signal.SIGHUP)
deadline = time.monotonic() + 10
while time.monotonic() < deadline and get(late) != 200:
    time.sleep(0.05)
assert get(late) == 200, "the new key was not taken"
assert get(reader) == 403, "the removed key still works"
assert conn.sock is sock, "the connection was dropped"
print("reloaded on the same connection")
PY
grep -q "SIGHUP: 3 API key(s) in force" "$MN_WORK/main.log" || fail "no reload log line"
pass "SIGHUP: the removed reader refused, the new key taken, on the same kept-alive connection"
