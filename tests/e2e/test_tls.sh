#!/usr/bin/env bash
# HTTPS (issue 13): server.tls.{cert_file,key_file} with a self-signed
# certificate made here with openssl; curl over https trusting only that
# certificate; the default public_url turns https; plain HTTP and untrusted
# clients get no answer; a TLS connection that never finishes its handshake
# is closed by the request deadline; half a TLS section is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$MN_WORK/key.pem" -out "$MN_WORK/cert.pem" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
chmod 600 "$MN_WORK/key.pem"

MN_KEY=e2e-tls-key-0123456789 # --check-config wants 16 characters or more
daemon_config tls
chmod 600 "$MN_WORK/tls.yaml"
# relative names: relative to the config file's folder ($MN_WORK)
sed -i '/^  api_key:/a\  request_timeout: 3s\n  tls:\n    cert_file: cert.pem\n    key_file: key.pem' "$MN_WORK/tls.yaml"
"$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/tls.yaml" >/dev/null || fail "--check-config refused the TLS section"
port=${MN_PORTS[tls]}
url=https://127.0.0.1:$port
"$MN_BIN_DIR/multinoded" --config "$MN_WORK/tls.yaml" >>"$MN_WORK/tls.log" 2>&1 &
MN_PIDS[tls]=$!
MN_URL=$url
tls_curl() { curl -s --max-time 5 --cacert "$MN_WORK/cert.pem" "$@"; }
wait_for 60 tls_curl -f "$url/" || { tail -n 30 "$MN_WORK/tls.log"; fail "no answer over https"; }
[ "$(tls_curl "$url/")" = '{"status":"healthy"}' ] || fail "GET / over https"
pass "GET / over https, the certificate verified"

code=$(tls_curl -o "$MN_WORK/out" -w '%{http_code}' -X PUT -H "Authorization: Bearer $MN_KEY" "$url/projects/secure")
[ "$code" = 200 ] || fail "PUT /projects/secure over https: $code $(cat "$MN_WORK/out")"
out=$(tls_curl -H "Authorization: Bearer $MN_KEY" "$url/projects")
[ "$(jget "$out" '[p["project_name"] for p in j["projects"]]')" = '["secure"]' ] || fail "$out"
code=$(tls_curl -o /dev/null -w '%{http_code}' "$url/projects")
[ "$code" = 403 ] || fail "no key over https: $code"
wait_until 10 "ready over https" tls_curl -f "$url/readyz"
pass "authenticated calls and /readyz over https"

grep -q "public url https://127.0.0.1:$port" "$MN_WORK/tls.log" || fail "the default public_url is not https: $(grep 'public url' "$MN_WORK/tls.log")"
pass "default public_url: https://127.0.0.1:$port (what workers and clients are told)"

# no answer in the clear, none to a client that does not trust the certificate
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
[ "$code" = 000 ] || fail "plain HTTP to the TLS port got $code"
rc=0; curl -s --max-time 5 -o /dev/null "$url/" || rc=$?
[ "$rc" = 60 ] || fail "a client without the certificate: curl exit $rc, not 60 (peer certificate cannot be verified)"
pass "plain HTTP gets no answer; an untrusting client stops at verification"

# a TCP connection that never starts its handshake is closed by the deadline
age=$(timeout 20 python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.monotonic()
s.settimeout(15)
try:
    data = s.recv(1)
except OSError:
    data = b""
print("%.2f" % (time.monotonic() - t0) if data == b"" else "data")
PY
) || fail "the idle TLS connection was not closed within 15 s"
python3 -c "import sys; a=float(sys.argv[1]); sys.exit(0 if 2.9 <= a <= 5 else 1)" "$age" ||
  fail "the idle TLS connection was closed after $age s, not about 3"
pass "a connection with no handshake closed after $age s (request_timeout 3s)"

# half a TLS section is refused by --check-config and at start
cp "$MN_WORK/tls.yaml" "$MN_WORK/half.yaml"
sed -i '/^    key_file:/d' "$MN_WORK/half.yaml"
out=$("$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/half.yaml" 2>&1) && fail "--check-config accepted a TLS section without key_file"
case $out in *"server.tls: give both cert_file and key_file, or neither"*) ;; *) fail "$out" ;; esac
pass "half a TLS section: $out"
cp "$MN_WORK/tls.yaml" "$MN_WORK/missing.yaml"
sed -i 's|^    key_file: .*|    key_file: nowhere.pem|' "$MN_WORK/missing.yaml"
sed -i "s|^  listen: .*|  listen: 127.0.0.1:$(free_port)|" "$MN_WORK/missing.yaml"
out=$(timeout 60 "$MN_BIN_DIR/multinoded" --config "$MN_WORK/missing.yaml" 2>&1) && fail "started without its key file"
case $out in *"cannot read the TLS key"*"nowhere.pem"*) ;; *) fail "$out" ;; esac
pass "a missing key file stops the start: $(echo "$out" | grep -o 'cannot read the TLS key.*' | head -n1)"
