#!/usr/bin/env bash
# A hung database (issue 13): with the embedded Postgres stopped (SIGSTOP of
# the postmaster and every backend), GET /readyz (no key) answers within
# 1 s each time and turns to 503 {"ready": false, ...} naming the database;
# GET / and /healthz answer within 1 s; an authenticated request that needs
# the database gets 503 with a JSON detail once store.postgres.
# statement_timeout (2 s here) and its 2 s of grace have passed, not a hang.
# After SIGCONT everything is ready again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

daemon_config pg "store:
  postgres:
    statement_timeout: 2s"
daemon_start pg
url=$MN_URL

wait_until 20 "ready before the test" curl -sf --max-time 1 "$url/readyz"
body=$(curl -s --max-time 1 "$url/readyz")
[ "$(jget "$body" 'j["ready"]')" = True ] || fail "not ready at the start: $body"
[ "$(jget "$body" 'j["scheduler"]')" = active ] || fail "scheduler role: $body"
[ "$(jget "$body" 'j["database"]["ok"] and j["migrations"]["ok"] and j["disk"]["ok"]')" = True ] || fail "$body"
[ "$(jget "$body" '[p["name"] for p in j["providers"]]')" = '["local"]' ] || fail "providers: $body"
pass "ready: $body"
api PUT /projects/before >/dev/null
[ "$(last_status)" = 200 ] || fail "PUT /projects/before: $(last_status)"

pgpid=$(head -n1 "$MN_WORK/data/postgres/data/postmaster.pid")
[ -n "$pgpid" ] || fail "no postmaster pid"
stopped=("$pgpid" $(pgrep -P "$pgpid" || true))
resume() { kill -CONT "${stopped[@]}" 2>/dev/null || true; }
on_exit resume
kill -STOP "${stopped[@]}"
t_stop=$(date +%s%N)

# an authenticated request that needs the database, in the background
api_out="$MN_WORK/projects.out"
( start=$(date +%s%N)
  code=$(curl -s --max-time 15 -o "$api_out" -w '%{http_code}' -H "Authorization: Bearer $MN_KEY" "$url/projects")
  echo "$code $(( ($(date +%s%N) - start) / 1000000 ))" >"$api_out.status" ) &
api_job=$!

# /readyz: every answer within 1 s, 503 within 5 s of the stop
ready_503=
for _ in $(seq 1 100); do
  t0=$(date +%s%N)
  code=$(curl -s --max-time 1 -o "$MN_WORK/readyz" -w '%{http_code}' "$url/readyz") ||
    fail "GET /readyz did not answer within 1 s with Postgres stopped"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$ms" -lt 1000 ] || fail "GET /readyz took $ms ms"
  if [ "$code" = 503 ]; then ready_503=$(( ($(date +%s%N) - t_stop) / 1000000 )); break; fi
  [ $(( ($(date +%s%N) - t_stop) / 1000000 )) -lt 5000 ] || fail "GET /readyz still $code 5 s after the stop"
  sleep 0.1
done
[ -n "$ready_503" ] || fail "GET /readyz never said 503"
body=$(cat "$MN_WORK/readyz")
[ "$(jget "$body" 'j["ready"]')" = False ] || fail "$body"
[ "$(jget "$body" 'j["database"]["ok"]')" = False ] || fail "$body"
[ "$(jget "$body" 'any(r.startswith("database: ") for r in j["reasons"])')" = True ] || fail "$body"
pass "GET /readyz: 503 ${ready_503} ms after the stop, each answer under 1 s: $body"

for path in / /healthz /readyz; do
  t0=$(date +%s%N)
  curl -s --max-time 1 -o /dev/null "$url$path" || fail "GET $path did not answer within 1 s"
  pass "GET $path answered in $(( ($(date +%s%N) - t0) / 1000000 )) ms with Postgres stopped"
done

# the authenticated request: 503 with a JSON detail, bounded by the timeout
wait "$api_job" || true
read -r code ms <"$api_out.status"
[ "$code" = 503 ] || fail "GET /projects with Postgres stopped: $code $(cat "$api_out")"
[ "$(cat "$api_out")" = '{"detail":"The database is unavailable"}' ] || fail "body: $(cat "$api_out")"
[ "$ms" -lt 6000 ] || fail "GET /projects took $ms ms to fail"
pass "GET /projects with Postgres stopped: 503 $(cat "$api_out") after $ms ms"
# a second one reconnects within the same bound
t0=$(date +%s%N)
out=$(api GET /projects)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(last_status)" = 503 ] && [ "$ms" -lt 6000 ] || fail "second GET /projects: $(last_status) after $ms ms: $out"
pass "again: 503 after $ms ms"

resume
wait_until 15 "ready after SIGCONT" curl -sf --max-time 1 "$url/readyz"
out=$(api GET /projects)
[ "$(last_status)" = 200 ] || fail "GET /projects after SIGCONT: $(last_status) $out"
[ "$(jget "$out" '[p["project_name"] for p in j["projects"]]')" = '["before"]' ] || fail "$out"
pass "after SIGCONT: ready again, GET /projects 200"
