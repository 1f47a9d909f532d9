#!/usr/bin/env bash
# certs.sh DIR: a throw-away PKI for the simulator: ca.{key,crt}, server.{key,crt}
# (for 127.0.0.1 and localhost) and client.{key,crt} (CN multinode, O
# system:masters), all signed by the CA, valid for two days.
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout ca.key -out ca.crt -days 2 -subj /CN=multinode-test-ca
ec -keyout server.key -out server.csr -subj /CN=kube-apiserver
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
  -days 2 -extfile server.ext 2>/dev/null
ec -keyout client.key -out client.csr -subj "/O=system:masters/CN=multinode"
printf 'extendedKeyUsage=clientAuth\n' >client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt \
  -days 2 -extfile client.ext 2>/dev/null
rm -f ./*.csr ./*.ext ./*.srl
