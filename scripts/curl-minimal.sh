#!/usr/bin/env bash
# Builds the static libcurl that multinode-worker links (bench/README.md,
# "Worker CPU"): Debian's own source package of the libcurl installed here
# (same version as the headers the client is compiled against, with Debian's
# patches), configured with HTTP and HTTPS over OpenSSL only, into a cache
# that later builds reuse. Debian's libcurl pulls 33 shared libraries (GnuTLS,
# Kerberos, LDAP, SSH, RTMP, IDN, PSL, HTTP/2, brotli, zstd...) whose loading
# was 80 % of an exec'd worker's CPU.
#
#   scripts/curl-minimal.sh [--musl] PREFIX
#
# --musl builds for musl libc (musl-gcc) instead of glibc, and then builds
# OpenSSL and jansson too (Debian's source packages, OpenSSL without engines,
# dynamic loading or async jobs): glibc's start of a static program
# identifies the CPU with some thirty cpuid instructions, each a trap to the
# hypervisor in a virtual machine (8-20 us here), where musl's does nothing
# (bench/README.md, "Worker CPU").
#
# Leaves PREFIX/lib/libcurl.a (with --musl also libssl.a, libcrypto.a and
# libjansson.a) and PREFIX/include/ and exits 0, or exits
# non-zero with the reason on stderr (offline, no such source version, a
# checksum that does not match): CMake then links the shared libcurl and says
# so. The source comes through apt-get with a private list and state (the
# system's apt configuration and lists are untouched); apt checks every file
# against the signed index, and the upstream tarball is also checked here
# against its pinned SHA-256.
set -euo pipefail

musl=0
if [ "${1:-}" = --musl ]; then musl=1; shift; fi
prefix=${1:?usage: scripts/curl-minimal.sh [--musl] PREFIX}
upstream=7.88.1
upstream_sha256=cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7

[ -f "$prefix/lib/libcurl.a" ] && exit 0
# one build at a time (several checkouts may configure at once)
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
[ -f "$prefix/lib/libcurl.a" ] && exit 0
version=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev 2>/dev/null) ||
  { echo "curl-minimal: libcurl4-openssl-dev is not installed" >&2; exit 1; }
case $version in
  "$upstream"-*) ;;
  *) echo "curl-minimal: installed libcurl is $version; this script pins upstream $upstream" >&2; exit 1 ;;
esac
cc=cc tools="apt-get dpkg-source make cc"
[ "$musl" = 0 ] || { cc=musl-gcc tools="$tools musl-gcc perl cmake"; }
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "curl-minimal: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d /tmp/mn-curl-minimal.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sources" "$work/src"
for suite in "debian bookworm bookworm-updates" "debian-security bookworm-security"; do
  set -- $suite
  printf 'Types: deb-src\nURIs: http://deb.debian.org/%s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
    "$1" "${*:2}"
done >"$work/apt/sources/src.sources"
# OpenSSL's and jansson's sources for --musl: the installed version when the
# archive still has it, else the newest it offers, else bookworm's own.
get_musl_sources() {
  local pkg dev v
  for pkg in openssl:libssl-dev jansson:libjansson-dev; do
    dev=${pkg#*:} pkg=${pkg%%:*}
    v=$(dpkg-query -W -f='${Version}' "$dev" 2>/dev/null || true)
    timeout 300 apt-get "${apt_opts[@]}" source --download-only "$pkg${v:+=$v}" ||
      timeout 300 apt-get "${apt_opts[@]}" source --download-only "$pkg" ||
      timeout 300 apt-get "${apt_opts[@]}" source --download-only "$pkg/bookworm" || return 1
  done
}
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Retries=1 -qq)
timeout 120 apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1 &&
  (cd "$work/src" && timeout 300 apt-get "${apt_opts[@]}" source --download-only "curl=$version") \
    >>"$work/apt.log" 2>&1 &&
  { [ "$musl" = 0 ] || (cd "$work/src" && get_musl_sources) >>"$work/apt.log" 2>&1; } ||
  { echo "curl-minimal: could not download Debian's sources (offline?):" >&2
    tail -n 3 "$work/apt.log" >&2; exit 1; }
echo "$upstream_sha256  $work/src/curl_$upstream.orig.tar.gz" | sha256sum -c --status ||
  { echo "curl-minimal: curl_$upstream.orig.tar.gz does not match its pinned SHA-256" >&2; exit 1; }
dpkg-source -x "$work/src/curl_$version.dsc" "$work/curl" >"$work/unpack.log" 2>&1 ||
  { echo "curl-minimal: dpkg-source could not unpack curl $version" >&2; tail -n 3 "$work/unpack.log" >&2; exit 1; }

rm -rf "$prefix.part"
mkdir -p "$prefix.part/include"
built=""
if [ "$musl" = 1 ]; then
  # musl's headers have no linux/ nor asm/ (OpenSSL's mem_sec.c and the
  # worker include a few): the kernel's, which hold nothing of glibc.
  kinc=$prefix.part/kernel-include
  mkdir -p "$kinc"
  ln -s /usr/include/linux "$kinc/linux"
  ln -s /usr/include/asm-generic "$kinc/asm-generic"
  ln -s "/usr/include/$(gcc -print-multiarch)/asm" "$kinc/asm"
  for dsc in "$work"/src/openssl_*.dsc "$work"/src/jansson_*.dsc; do
    name=$(basename "$dsc" .dsc)
    built="$built, ${name/_/ }"
    dpkg-source -x "$dsc" "$work/${name%%_*}" >>"$work/unpack.log" 2>&1 ||
      { echo "curl-minimal: dpkg-source could not unpack $name" >&2; exit 1; }
  done
  (cd "$work/openssl" && ./Configure linux-x86_64 CC=musl-gcc no-shared no-tests no-afalgeng \
      no-async no-dso no-engine --prefix="$prefix.part" --openssldir=/usr/lib/ssl --libdir=lib \
      -O2 -isystem "$kinc" && make -j"$(nproc)" build_libs && make install_dev) \
    >"$work/openssl.log" 2>&1 ||
    { echo "curl-minimal: the OpenSSL build failed:" >&2; tail -n 20 "$work/openssl.log" >&2; exit 1; }
  (cd "$work/jansson" && cmake -S . -B build -DCMAKE_C_COMPILER=musl-gcc \
      -DCMAKE_BUILD_TYPE=Release -DJANSSON_BUILD_DOCS=OFF -DJANSSON_BUILD_SHARED_LIBS=OFF \
      -DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON -DCMAKE_INSTALL_PREFIX="$prefix.part" &&
    cmake --build build -j"$(nproc)" && cmake --install build) >"$work/jansson.log" 2>&1 ||
    { echo "curl-minimal: the jansson build failed:" >&2; tail -n 20 "$work/jansson.log" >&2; exit 1; }
  ssl=(--with-openssl="$prefix.part")
  export PKG_CONFIG_LIBDIR="$prefix.part/lib/pkgconfig"
else
  ssl=(--with-openssl)
fi

# Only what the worker uses (client/transport.c): HTTP and HTTPS with
# OpenSSL, proxies, the threaded resolver; Debian's CA locations.
cd "$work/curl"
CC=$cc CFLAGS="-O2 -fPIC" ./configure --prefix="$prefix.part" --disable-shared --enable-static --with-pic \
  "${ssl[@]}" --with-ca-path=/etc/ssl/certs --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
  --enable-threaded-resolver --disable-ftp --disable-file --disable-ldap --disable-ldaps \
  --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
  --disable-smb --disable-smtp --disable-gopher --disable-mqtt --disable-manual --disable-ntlm \
  --disable-ntlm-wb --disable-kerberos-auth --disable-negotiate-auth --disable-alt-svc \
  --disable-hsts --disable-cookies --disable-mime --disable-netrc --disable-tls-srp \
  --disable-websockets --without-zlib --without-brotli --without-zstd --without-libpsl \
  --without-libidn2 --without-nghttp2 --without-libssh2 --without-libssh --without-librtmp \
  --without-gssapi >"$work/build.log" 2>&1 &&
  make -j"$(nproc)" -C lib >>"$work/build.log" 2>&1 &&
  make -C lib install >>"$work/build.log" 2>&1 && make -C include install >>"$work/build.log" 2>&1 ||
  { echo "curl-minimal: the build failed:" >&2; tail -n 20 "$work/build.log" >&2; exit 1; }
rm -rf "$prefix"
mv "$prefix.part" "$prefix"
echo "curl-minimal: $prefix/lib/libcurl.a (curl $version, HTTP and HTTPS over OpenSSL only$([ "$musl" = 0 ] || echo ", for musl$built"))"
