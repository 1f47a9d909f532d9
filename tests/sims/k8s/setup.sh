#!/usr/bin/env bash
# Installs the simulator's npm dependencies (package-lock.json) into
# tests/sims/k8s/node_modules once; later calls are no-ops while the lock
# file is unchanged. Needs node (>= 18) and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "k8s simulator: node is not installed (Debian: nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "k8s simulator: npm is not installed (Debian: npm)" >&2; exit 1; }
stamp=$here/node_modules/.mn-lock-stamp
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json"; then
  exit 0
fi
# several tests may start at once: one installs, the others wait
exec 9>"$here/.setup.lock"
flock 9
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json"; then
  exit 0
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
cp "$here/package-lock.json" "$stamp"
