#!/usr/bin/env bash
# Builds a Multinode worker image from the locally built binaries, with no
# registry: a minimal root filesystem (busybox-static for sh, cat, sleep...,
# multinode-worker (stripped) and the multinode CLI in /usr/local/bin, with
# the shared libraries they load: the static worker loads none, the CLI
# libcurl's 30-odd) imported with `docker import`.
#
#   scripts/worker-image.sh [--bin-dir DIR] [--tag TAG] [--no-cli] [--python] [--entrypoint FILE] [--add SRC:DEST]...
#
#   --bin-dir DIR      where multinode-worker (and multinode) are (default:
#                      build/bin of this checkout)
#   --no-cli           without the CLI and its libraries: busybox and the
#                      worker alone, about 8 MB instead of 66 (for tasks that
#                      do not call `multinode progress`, `start` or `wait`)
#   --tag TAG          the image name (default: multinode-worker:local)
#   --entrypoint FILE  copy FILE to /usr/local/bin/ and make it the entrypoint
#                      instead of multinode-worker (e.g. a wrapper that ends with
#                      `exec multinode-worker "$@"`)
#   --add SRC:DEST     copy one more file into the image (DEST is absolute)
#   --python           the base image of Python projects (default tag
#                      multinode-python:local): also Debian's python3 (its
#                      standard library and extension modules with their
#                      libraries), python3-jsonpickle and this checkout's
#                      `multinode` package; `multinode deploy` builds each
#                      version's image FROM it
#
# The engine is the one the docker CLI talks to (DOCKER_HOST). Use the image as
# a version's default_docker_image (or a function's docker_image_override);
# the function's command becomes the container's CMD, run by the worker.
# Needs: docker (CLI), busybox-static, ldd.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib_rootfs.sh"
bin_dir=$here/build/bin tag= entry= adds=() python=0 cli=1
while [ $# -gt 0 ]; do
  case $1 in
  --bin-dir) bin_dir=$2; shift 2 ;;
  --tag) tag=$2; shift 2 ;;
  --entrypoint) entry=$2; shift 2 ;;
  --add) adds+=("$2"); shift 2 ;;
  --python) python=1; shift ;;
  --no-cli) cli=0; shift ;;
  -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
done

[ -n "$tag" ] || { [ $python = 1 ] && tag=multinode-python:local || tag=multinode-worker:local; }
bins=(multinode-worker)
[ $cli = 0 ] || bins+=(multinode)
for b in "${bins[@]}"; do
  [ -x "$bin_dir/$b" ] || { echo "error: \"$bin_dir/$b\" not found: build first or pass --bin-dir" >&2; exit 1; }
done
rootfs_need_tools
[ -z "$entry" ] || [ -f "$entry" ] || { echo "error: entrypoint \"$entry\" not found" >&2; exit 1; }

root=$(mktemp -d /tmp/mn-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
rootfs_busybox
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

[ $cli = 0 ] || copy_with_libs "$bin_dir/multinode" /usr/local/bin/multinode
copy_with_libs "$bin_dir/multinode-worker" /usr/local/bin/multinode-worker
# without its debugging information and symbol table (a third of the file)
if command -v strip >/dev/null; then strip "$root/usr/local/bin/multinode-worker"; fi
if [ $python = 1 ]; then
  # Debian's python3 as installed here: the interpreter, its standard
  # library, its extension modules and every library they load
  py=$(readlink -f /usr/bin/python3)
  pyver=$(basename "$py")
  [ -x "$py" ] && [ -d "/usr/lib/$pyver" ] ||
    { echo "error: Debian's python3 is needed (apt-get install python3)" >&2; exit 1; }
  [ -d /usr/lib/python3/dist-packages/jsonpickle ] ||
    { echo "error: python3-jsonpickle is needed (apt-get install python3-jsonpickle)" >&2; exit 1; }
  copy_with_libs "$py" "/usr/bin/$pyver"
  ln -s "$pyver" "$root/usr/bin/python3"
  mkdir -p "$root/usr/lib/python3/dist-packages"
  tar -C /usr/lib --exclude='__pycache__' --exclude="$pyver/test" --exclude="$pyver/idlelib" \
    --exclude="$pyver/tkinter" --exclude="$pyver/turtledemo" --exclude="$pyver/ensurepip" \
    -c "$pyver" | tar -C "$root/usr/lib" -x
  for so in "$root/usr/lib/$pyver"/lib-dynload/*.so; do
    { ldd "$so" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | sort -u | while read -r lib; do
      [ -e "$root$lib" ] || cp -L --parents "$lib" "$root" 2>/dev/null || true
    done
  done
  cp -r /usr/lib/python3/dist-packages/jsonpickle "$root/usr/lib/python3/dist-packages/"
  (cd "$here/python" && tar --exclude='__pycache__' -c multinode) |
    tar -C "$root/usr/lib/python3/dist-packages" -x
fi
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
  --change 'ENV PYTHONUNBUFFERED=1' \
  --change 'WORKDIR /tmp' \
  - "$tag" >/dev/null
echo "$tag"
