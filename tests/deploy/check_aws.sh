#!/usr/bin/env bash
# Installs tests/deploy/package-lock.json (@aws-cdk/cfnspec, yaml) once into
# a scratch folder named after the lock file's hash, then runs check_aws.js.
# Needs node (>= 18) and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed (Debian: npm)" >&2; exit 1; }
dir=${MN_CFNSPEC_DIR:-/tmp/mn-cfnspec-$(sha256sum "$here/package-lock.json" | cut -c1-12)}
if [ ! -f "$dir/node_modules/.mn-done" ]; then
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  if [ ! -f "$dir/node_modules/.mn-done" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$dir/node_modules/.mn-done"
  fi
  exec 9>&-
fi
exec node "$here/check_aws.js" "$src" "$dir/node_modules"
