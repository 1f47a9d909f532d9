#!/usr/bin/env bash
# deploy/systemd/multinoded.service (docs/deploy.md): `systemd-analyze verify`
# has nothing to say about it (its /usr/local/bin paths pointed at this
# build, as verify requires the programs to exist; PID 1 here is no systemd,
# so the unit is verified, not started), a typo in a copy is reported, and
# `systemd-analyze security --offline` rates its exposure 2.5 or lower. The
# unit's Type=notify (READY=1, STOPPING=1) is tested in test_daemon_image.
. "$(dirname "$0")/lib.sh"
unit=$MN_SOURCE_DIR/deploy/systemd/multinoded.service
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (apt-get install systemd)"

MN_WORK=$(new_workdir); trap 'rm -rf "$MN_WORK"' EXIT
sed "s|/usr/local/bin/|$MN_BIN_DIR/|g" "$unit" >"$MN_WORK/multinoded.service"
out=$(systemd-analyze verify "$MN_WORK/multinoded.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify has remarks: $out"
sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$MN_WORK/multinoded.service" >"$MN_WORK/typo.service"
out=$(systemd-analyze verify "$MN_WORK/typo.service" 2>&1 || true)
grep -q "Unknown key 'ProtectSytem'" <<<"$out" || fail "a typo in the unit was not reported: $out"
exposure=$(systemd-analyze security --offline=true "$MN_WORK/multinoded.service" 2>&1 |
  sed -n 's/.*Overall exposure level for multinoded.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' ||
  fail "exposure level \"$exposure\", want 2.5 or lower"
pass "systemd-analyze verify: no remark (a typo is reported); security exposure $exposure"
