#!/usr/bin/env bash
# Builds a Multinode worker image from the locally built binaries, with no
# registry: a minimal root filesystem (busybox-static for sh, cat, sleep...,
# multinode and multinode-worker in /usr/local/bin, the shared libraries they
# load, the dynamic loader) imported with `docker import`.
#
#   scripts/worker-image.sh [--bin-dir DIR] [--tag TAG] [--entrypoint FILE] [--add SRC:DEST]...
#
#   --bin-dir DIR      where multinode and multinode-worker are (default: build/bin
#                      of this checkout)
#   --tag TAG          the image name (default: multinode-worker:local)
#   --entrypoint FILE  copy FILE to /usr/local/bin/ and make it the entrypoint
#                      instead of multinode-worker (e.g. a wrapper that ends with
#                      `exec multinode-worker "$@"`)
#   --add SRC:DEST     copy one more file into the image (DEST is absolute)
#
# The engine is the one the docker CLI talks to (DOCKER_HOST). Use the image as
# a version's default_docker_image (or a function's docker_image_override);
# the function's command becomes the container's CMD, run by the worker.
# Needs: docker (CLI), busybox-static, ldd.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=$here/build/bin tag=multinode-worker:local entry= adds=()
while [ $# -gt 0 ]; do
  case $1 in
  --bin-dir) bin_dir=$2; shift 2 ;;
  --tag) tag=$2; shift 2 ;;
  --entrypoint) entry=$2; shift 2 ;;
  --add) adds+=("$2"); shift 2 ;;
  -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
done

for b in multinode multinode-worker; do
  [ -x "$bin_dir/$b" ] || { echo "error: \"$bin_dir/$b\" not found: build first or pass --bin-dir" >&2; exit 1; }
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
  { echo "error: a static busybox is needed (apt-get install busybox-static)" >&2; exit 1; }
command -v docker >/dev/null || { echo "error: the docker CLI is needed" >&2; exit 1; }
[ -z "$entry" ] || [ -f "$entry" ] || { echo "error: entrypoint \"$entry\" not found" >&2; exit 1; }

root=$(mktemp -d /tmp/mn-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,usr/local/bin,etc,tmp,proc,sys,dev}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -s ../../bin/env "$root/usr/bin/env"
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

copy_with_libs() { # FILE DEST: the file and every library ldd lists, at their paths
  install -m 755 "$1" "$root$2"
  ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | sort -u | while read -r lib; do
    [ -e "$root$lib" ] || cp -L --parents "$lib" "$root" 2>/dev/null ||
      { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
}
copy_with_libs "$bin_dir/multinode" /usr/local/bin/multinode
copy_with_libs "$bin_dir/multinode-worker" /usr/local/bin/multinode-worker
entrypoint=/usr/local/bin/multinode-worker
if [ -n "$entry" ]; then
  entrypoint=/usr/local/bin/$(basename "$entry")
  install -m 755 "$entry" "$root$entrypoint"
fi
for a in "${adds[@]}"; do
  mkdir -p "$root$(dirname "${a#*:}")"
  cp -L "${a%%:*}" "$root${a#*:}"
done

tar -C "$root" -c . | docker import \
  --change "ENTRYPOINT [\"$entrypoint\"]" \
  --change 'ENV PATH=/usr/local/bin:/bin:/usr/bin' \
  --change 'WORKDIR /tmp' \
  - "$tag" >/dev/null
echo "$tag"
