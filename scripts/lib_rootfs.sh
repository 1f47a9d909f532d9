# Sourced by scripts/worker-image.sh and scripts/daemon-image.sh: the parts
# of a minimal root filesystem both images share. The caller sets `root`
# (the folder the filesystem is assembled in) before calling the last two.

# Checks for a static busybox and the docker CLI; sets `busybox`.
rootfs_need_tools() {
  busybox=$(command -v busybox || true)
  [ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
    { echo "error: a static busybox is needed (apt-get install busybox-static)" >&2; exit 1; }
  command -v docker >/dev/null || { echo "error: the docker CLI is needed" >&2; exit 1; }
}

# The common folders, busybox with a link per applet, /usr/bin/env, /etc/hosts.
rootfs_busybox() {
  mkdir -p "$root"/{bin,usr/bin,usr/local/bin,etc,tmp,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  ln -s ../../bin/env "$root/usr/bin/env"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
}

copy_with_libs() { # FILE DEST: the file and every library ldd lists, at their paths
  install -m 755 "$1" "$root$2"
  # (a static binary, such as multinode-worker, lists none)
  { ldd "$1" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | sort -u | while read -r lib; do
    [ -e "$root$lib" ] || cp -L --parents "$lib" "$root" 2>/dev/null ||
      { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
}
