#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the benchmarks need,
# only when something is missing. Usage: scripts/deps.sh [extra-package...]
set -euo pipefail
pkgs=(build-essential cmake pkg-config libjansson-dev libyaml-dev libmicrohttpd-dev
      libcurl4-openssl-dev libpq-dev libssl-dev libcmocka-dev postgresql curl
      python3 procps valgrind jq docker.io busybox-static python3-botocore
      nodejs openssl python3-jsonpickle python3-pytest python3-fastapi python3-uvicorn
      python3-setuptools python3-wheel python3-venv python3-mypy
      docker-registry apache2-utils prometheus chromium docker-compose libarchive-dev musl-tools "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
