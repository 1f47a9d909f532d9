#!/usr/bin/env bash
# Builds the image of the control plane, multinode:<version>, from the
# locally built binaries, with no registry (docs/deploy.md): a minimal root
# filesystem (busybox-static for a shell; multinoded, multinode and
# multinode-worker in /usr/local/bin; the provider plugins in
# /usr/local/lib/multinode; the shared libraries they load; CA certificates;
# deploy/docker/multinoded.yaml as /etc/multinode/multinoded.yaml) imported
# with `docker import`. It runs as the unprivileged user "multinode" (uid
# 10001) with multinoded as its entrypoint, and the settings of the last
# stage of deploy/docker/Dockerfile (ENV, USER, ENTRYPOINT, ...) are read
# from that file, so both images have one layout.
#
#   scripts/daemon-image.sh [--bin-dir DIR] [--tag TAG]
#
#   --bin-dir DIR   where multinoded, multinode and multinode-worker are
#                   (default: build/bin of this checkout); the plugins are
#                   taken from DIR/../lib/multinode
#   --tag TAG       the image name (default: multinode:<multinoded --version>)
#
# The engine is the one the docker CLI talks to (DOCKER_HOST). Run it with
# MULTINODE_API_KEY and MULTINODE_POSTGRES_DSN set; `--migrate --config
# /etc/multinode/multinoded.yaml` as the command applies the schema and exits.
# Needs: docker (CLI), busybox-static, ldd.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib_rootfs.sh"
bin_dir=$here/build/bin tag=
while [ $# -gt 0 ]; do
  case $1 in
  --bin-dir) [ $# -ge 2 ] || { echo "error: --bin-dir needs a folder" >&2; exit 2; }; bin_dir=$2; shift 2 ;;
  --tag) [ $# -ge 2 ] || { echo "error: --tag needs a name" >&2; exit 2; }; tag=$2; shift 2 ;;
  -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
done

plugin_dir=$bin_dir/../lib/multinode
for b in multinoded multinode multinode-worker; do
  [ -x "$bin_dir/$b" ] || { echo "error: \"$bin_dir/$b\" not found: build first or pass --bin-dir" >&2; exit 1; }
done
plugins=()
for p in local docker ecs k8s; do
  [ -f "$plugin_dir/mn_provider_$p.so" ] ||
    { echo "error: \"$plugin_dir/mn_provider_$p.so\" not found: build the providers first" >&2; exit 1; }
  plugins+=("$plugin_dir/mn_provider_$p.so")
done
rootfs_need_tools
dockerfile=$here/deploy/docker/Dockerfile
[ -n "$tag" ] || tag=multinode:$("$bin_dir/multinoded" --version | awk '{print $2}')

root=$(mktemp -d /tmp/mn-daemon-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
rootfs_busybox
mkdir -p "$root"/{usr/local/lib/multinode,etc/multinode,etc/ssl/certs,var/lib/multinode}
printf 'root:x:0:0:root:/:/bin/sh\nmultinode:x:10001:10001:multinode:/var/lib/multinode:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nmultinode:x:10001:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
[ ! -f /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp "$here/deploy/docker/multinoded.yaml" "$root/etc/multinode/multinoded.yaml"
chown 10001:10001 "$root/var/lib/multinode"
chmod 700 "$root/var/lib/multinode"

for b in multinoded multinode multinode-worker; do
  copy_with_libs "$bin_dir/$b" "/usr/local/bin/$b"
done
for p in "${plugins[@]}"; do
  copy_with_libs "$p" "/usr/local/lib/multinode/$(basename "$p")"
done

# the runtime settings: the Dockerfile's last stage, from its ENV line on
changes=()
while IFS= read -r line; do
  changes+=(--change "$line")
done < <(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END {printf "%s", stage}' "$dockerfile" |
  sed -n '/^ENV /,$p' | grep -E '^(ENV|USER|WORKDIR|VOLUME|EXPOSE|ENTRYPOINT|CMD) ')
[ ${#changes[@]} -ge 8 ] || { echo "error: no runtime settings found in $dockerfile" >&2; exit 1; }

tar -C "$root" --numeric-owner -c . | docker import "${changes[@]}" - "$tag" >/dev/null
echo "$tag"
