#!/usr/bin/env bash
# The HTTP edge under connection floods (issue 13): while 1,100 idle TCP
# connections and a 200-connection slowloris (one header byte a second) are
# held open, and reopened as the server closes them, an authenticated client
# still gets every answer within 1 s, on fresh and on kept-alive connections:
#   same    the flood comes from 127.0.0.1, the client's own address
#   spread  from 40 other loopback addresses (no per-address limit is hit;
#           the server's connection limit makes room)
#   slow    200 slowloris connections under every limit: the request deadline
#           (server.request_timeout, 5 s here) closes each of them
# Every phase is bounded in time; the numbers are printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

daemon_config edge
sed -i '/^  api_key:/a\  request_timeout: 5s' "$MN_WORK/edge.yaml"
grep -q '^  request_timeout: 5s' "$MN_WORK/edge.yaml" || fail "config not written"
daemon_start edge
port=${MN_PORTS[edge]}
flood="$(dirname "$0")/edge_flood.py"

run_phase() { # PHASE SECONDS
  local out
  out=$(timeout $(( $2 + 60 )) python3 "$flood" "$port" "$MN_KEY" "$1" "$2") ||
    fail "$1: the flood driver failed"
  echo "$1: $out"
  RESULT=$out
}

check_client() { # PHASE
  [ "$(jget "$RESULT" 'j["n_failures"]')" = 0 ] || fail "$1: requests failed: $(jget "$RESULT" 'j["failures"]')"
  [ "$(jget "$RESULT" 'j["requests"] >= 50')" = True ] || fail "$1: too few requests measured"
  [ "$(jget "$RESULT" 'j["latency_ms"]["max"] < 1000')" = True ] ||
    fail "$1: an authenticated request took $(jget "$RESULT" 'j["latency_ms"]["max"]') ms"
  pass "$1: $(jget "$RESULT" 'j["requests"]') authenticated requests, p50 $(jget "$RESULT" 'j["latency_ms"]["p50"]') ms, p99 $(jget "$RESULT" 'j["latency_ms"]["p99"]') ms, max $(jget "$RESULT" 'j["latency_ms"]["max"]') ms"
}

run_phase same 12
check_client same
# one address holds at most max_unauthenticated_per_client (64) of them; the
# attacker counts a connection open until it sees it closed, and a slow
# server closes an excess one a moment after the kernel accepted it: a few
# more may be seen open at once, never the flood (of about 6,000). The
# sanitizer build, 3-5 times slower, was seen at 69 and, beside the Docker
# conformance run, 83; the plain build stays within 64 + 16.
slack=16
if ldd "$MN_BIN_DIR/multinoded" | grep -q libasan; then slack=40; fi
[ "$(jget "$RESULT" "j['attack']['open_max'] <= 64 + $slack")" = True ] ||
  fail "same: $(jget "$RESULT" 'j["attack"]["open_max"]') attacking connections open at once"
pass "same: at most $(jget "$RESULT" 'j["attack"]["open_max"]') of $(jget "$RESULT" 'j["attack"]["opened"]') attacking connections open at once"

run_phase spread 12
check_client spread
# the server's limit (1000) less its headroom holds, and it stays near it
[ "$(jget "$RESULT" 'j["attack"]["open_max"] <= 1000')" = True ] ||
  fail "spread: $(jget "$RESULT" 'j["attack"]["open_max"]') attacking connections open at once"
pass "spread: at most $(jget "$RESULT" 'j["attack"]["open_max"]') of $(jget "$RESULT" 'j["attack"]["opened"]') attacking connections open at once"

run_phase slow 9
check_client slow
[ "$(jget "$RESULT" 'j["attack"]["slow_closed"]')" = 200 ] ||
  fail "slow: only $(jget "$RESULT" 'j["attack"]["slow_closed"]') of 200 slowloris connections were closed"
[ "$(jget "$RESULT" '4.9 <= j["attack"]["slow_close_age_s"]["min"] and j["attack"]["slow_close_age_s"]["max"] <= 6.5')" = True ] ||
  fail "slow: closed after $(jget "$RESULT" 'j["attack"]["slow_close_age_s"]') s, not about 5 s"
pass "slow: all 200 slowloris connections closed $(jget "$RESULT" 'j["attack"]["slow_close_age_s"]["min"]')-$(jget "$RESULT" 'j["attack"]["slow_close_age_s"]["max"]') s after they opened (request_timeout 5s)"

# the daemon is fine, said so in few lines, and did not log one line per connection
[ "$(api GET /projects >/dev/null; last_status)" = 200 ] || fail "the daemon does not answer after the floods"
lines=$(wc -l <"$MN_WORK/edge.log")
mhd=$(grep -c 'libmicrohttpd:' "$MN_WORK/edge.log" || true)
[ "$mhd" -le 200 ] || fail "$mhd libmicrohttpd lines in the log"
grep -q 'api: closed .* connections that sent no whole request' "$MN_WORK/edge.log" ||
  fail "no summary of the closed connections in the log"
pass "log: $lines lines in all, $mhd from libmicrohttpd"
