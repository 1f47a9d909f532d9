#!/usr/bin/env bash
# data_dir's disk full (issue 13): data_dir on a 16 MiB tmpfs made for the
# test (Postgres elsewhere), filled to the last byte: GET /readyz says 503
# with the reason, the daemon keeps serving (/, authenticated reads and
# writes that go to the database); freeing the space makes it ready again.
# Needs root (mount).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

[ "$(id -u)" = 0 ] || fail "needs root to mount a tmpfs"
disk="$MN_WORK/disk"
mkdir -p "$disk"
mount -t tmpfs -o size=16m,mode=755 mn-e2e-disk "$disk" || fail "cannot mount a tmpfs on $disk"
on_exit "umount -l '$disk'"
"$MN_SOURCE_DIR/tests/pg.sh" start "$MN_WORK/pg" >/dev/null || fail "cannot start Postgres"
on_exit "'$MN_SOURCE_DIR/tests/pg.sh' stop '$MN_WORK/pg' >/dev/null"

daemon_config full "store:
  postgres:
    dsn: host=$MN_WORK/pg port=5499 dbname=postgres user=postgres"
sed -i "s|^data_dir: .*|data_dir: $disk/data|" "$MN_WORK/full.yaml"
sed -i '/^  api_key:/a\  min_free_disk_mb: 4' "$MN_WORK/full.yaml"
daemon_start full
url=$MN_URL
wait_until 20 "ready before the test" curl -sf --max-time 1 "$url/readyz"
pass "ready with $(jget "$(curl -s "$url/readyz")" 'j["disk"]["free_bytes"]') bytes free"

# fill it: dd stops at ENOSPC (bounded by the tmpfs's size)
dd if=/dev/zero of="$disk/fill" bs=1M count=64 >/dev/null 2>&1 || true
[ "$(df --output=avail -B1 "$disk" | tail -n1 | tr -d ' ')" -lt 1048576 ] || fail "the disk is not full"
wait_until 5 "503 from /readyz with the disk full" \
  bash -c "[ \"\$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' '$url/readyz')\" = 503 ]"
body=$(curl -s --max-time 1 "$url/readyz")
[ "$(jget "$body" 'j["ready"]')" = False ] || fail "$body"
[ "$(jget "$body" 'j["disk"]["ok"]')" = False ] || fail "$body"
[ "$(jget "$body" 'j["database"]["ok"]')" = True ] || fail "$body"
reason=$(jget "$body" '[r for r in j["reasons"] if r.startswith("disk: ")][0]')
case $reason in *"below the 4.0 MiB required"*) ;; *) fail "reason: $reason" ;; esac
pass "disk full: 503, $reason"

# still serving
[ "$(curl -s --max-time 1 "$url/")" = '{"status":"healthy"}' ] || fail "GET / with the disk full"
[ "$(curl -s --max-time 1 "$url/healthz")" = '{"status":"healthy"}' ] || fail "GET /healthz"
api PUT /projects/during >/dev/null
[ "$(last_status)" = 200 ] || fail "PUT /projects/during with data_dir full: $(last_status)"
out=$(api GET /projects)
[ "$(last_status)" = 200 ] || fail "GET /projects with data_dir full: $(last_status)"
pass "the daemon keeps serving: $out"

rm -f "$disk/fill"
wait_until 5 "ready again once space is freed" curl -sf --max-time 1 "$url/readyz"
pass "space freed: ready again"
