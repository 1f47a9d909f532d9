#!/usr/bin/env bash
# Builds the static libcurl that multinode-worker links (bench/README.md,
# "Worker CPU"): Debian's own source package of the libcurl installed here
# (same version as the headers the client is compiled against, with Debian's
# patches), configured with HTTP and HTTPS over OpenSSL only, into a cache
# that later builds reuse. Debian's libcurl pulls 33 shared libraries (GnuTLS,
# Kerberos, LDAP, SSH, RTMP, IDN, PSL, HTTP/2, brotli, zstd...) whose loading
# was 80 % of an exec'd worker's CPU.
#
#   scripts/curl-minimal.sh PREFIX
#
# Leaves PREFIX/lib/libcurl.a and PREFIX/include/curl/ and exits 0, or exits
# non-zero with the reason on stderr (offline, no such source version, a
# checksum that does not match): CMake then links the shared libcurl and says
# so. The source comes through apt-get with a private list and state (the
# system's apt configuration and lists are untouched); apt checks every file
# against the signed index, and the upstream tarball is also checked here
# against its pinned SHA-256.
set -euo pipefail

prefix=${1:?usage: scripts/curl-minimal.sh PREFIX}
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
for tool in apt-get dpkg-source make cc; do
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
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Retries=1 -qq)
timeout 120 apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1 &&
  (cd "$work/src" && timeout 300 apt-get "${apt_opts[@]}" source --download-only "curl=$version") \
    >>"$work/apt.log" 2>&1 ||
  { echo "curl-minimal: could not download Debian's source of curl $version (offline?):" >&2
    tail -n 3 "$work/apt.log" >&2; exit 1; }
echo "$upstream_sha256  $work/src/curl_$upstream.orig.tar.gz" | sha256sum -c --status ||
  { echo "curl-minimal: curl_$upstream.orig.tar.gz does not match its pinned SHA-256" >&2; exit 1; }
dpkg-source -x "$work/src/curl_$version.dsc" "$work/curl" >"$work/unpack.log" 2>&1 ||
  { echo "curl-minimal: dpkg-source could not unpack curl $version" >&2; tail -n 3 "$work/unpack.log" >&2; exit 1; }

# Only what the worker uses (client/transport.c): HTTP and HTTPS with
# OpenSSL, proxies, the threaded resolver; Debian's CA locations.
cd "$work/curl"
CFLAGS="-O2 -fPIC" ./configure --prefix="$prefix.part" --disable-shared --enable-static --with-pic \
  --with-openssl --with-ca-path=/etc/ssl/certs --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
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
echo "curl-minimal: $prefix/lib/libcurl.a (curl $version, HTTP and HTTPS over OpenSSL only)"
