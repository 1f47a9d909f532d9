#!/usr/bin/env bash
# deploy/compose (docs/deploy.md): `docker-compose config` (Debian's
# docker-compose, which validates against the Compose schema offline)
# accepts the file; its normalized form has Postgres, the migration step and
# two daemons of multinode:<this version> (the tag scripts/daemon-image.sh
# gives) that wait for the migration, listen on two loopback ports, and read
# the Docker provider's config, which passes --check-config with the
# environment the file sets. A missing MULTINODE_API_KEY and a misspelt key
# in a copy are refused. (Not started: the Postgres image would be pulled.)
. "$(dirname "$0")/lib.sh"
work=$(new_workdir); trap 'rm -rf "$work"' EXIT
command -v docker-compose >/dev/null || fail "docker-compose is missing (apt-get install docker-compose)"
dir=$MN_SOURCE_DIR/deploy/compose
key=a-key-of-sixteen-or-more
norm=$(MULTINODE_API_KEY=$key docker-compose -f "$dir/docker-compose.yml" config 2>&1) ||
  fail "docker-compose config: $norm"
/usr/bin/python3 - "$norm" "$("$MN_BIN_DIR/multinoded" --version | awk '{print $2}')" <<'PY' || fail "the compose file's structure"
import sys, yaml
c, version = yaml.safe_load(sys.argv[1]), sys.argv[2]
s = c["services"]
assert sorted(s) == ["migrate", "multinode-a", "multinode-b", "postgres"], sorted(s)
assert s["migrate"]["command"][0] == "--migrate", s["migrate"]["command"]
ports = set()
for name in ("migrate", "multinode-a", "multinode-b"):
    assert s[name]["image"] == "multinode:" + version, (name, s[name]["image"])
    assert s[name]["environment"]["MULTINODE_POSTGRES_DSN"].startswith("host=postgres "), name
for name in ("multinode-a", "multinode-b"):
    d = s[name]
    assert d["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert d["read_only"] is True, name
    assert "/readyz" in " ".join(d["healthcheck"]["test"]), name
    assert d["environment"]["MULTINODE_PUBLIC_URL"] == "http://%s:5000" % name, name
    targets = [v.split(":")[1] if isinstance(v, str) else v["target"] for v in d["volumes"]]
    assert "/var/run/docker.sock" in targets and "/var/lib/multinode" in targets, (name, targets)
    (p,) = d["ports"]
    host_ip, published = p.split(":")[:2] if isinstance(p, str) else (p["host_ip"], p["published"])
    assert host_ip == "127.0.0.1", p
    ports.add(published)
assert len(ports) == 2, ports
assert s["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
print("ok")
PY
out=$(MULTINODE_LISTEN=0.0.0.0:5000 MULTINODE_API_KEY=$key MULTINODE_PUBLIC_URL=http://multinode-a:5000 \
  MULTINODE_POSTGRES_DSN="host=postgres dbname=multinode" MULTINODE_DATA_DIR="$work" MULTINODE_LOG_LEVEL=info \
  "$MN_BIN_DIR/multinoded" --check-config "$dir/multinoded.yaml" 2>&1) || fail "deploy/compose/multinoded.yaml: $out"
pass "docker-compose config accepts it: postgres, migrate, two daemons of multinode:<version>; their config passes --check-config"

out=$(env -u MULTINODE_API_KEY docker-compose -f "$dir/docker-compose.yml" config 2>&1) &&
  fail "accepted without MULTINODE_API_KEY"
grep -q "set MULTINODE_API_KEY" <<<"$out" || fail "without MULTINODE_API_KEY: $out"
sed 's/^    restart: unless-stopped$/    restrat: unless-stopped/' "$dir/docker-compose.yml" >"$work/typo.yml"
cmp -s "$dir/docker-compose.yml" "$work/typo.yml" && fail "the typo was not made"
out=$(MULTINODE_API_KEY=$key docker-compose -f "$work/typo.yml" config 2>&1) && fail "a misspelt key was accepted"
grep -q "restrat" <<<"$out" || fail "the misspelt key is not named: $out"
pass "refused: no MULTINODE_API_KEY; a misspelt key (restrat)"
