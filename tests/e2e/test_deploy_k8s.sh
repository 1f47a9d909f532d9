#!/usr/bin/env bash
# deploy/k8s (docs/deploy.md): every manifest valid against the published
# Kubernetes schema (kubernetes-models, as the simulator validates; also the
# `kubectl kustomize` rendering when kubectl is installed), the Deployment's
# shape (2 replicas, probes on /healthz and /readyz, requests, non-root,
# read-only root filesystem, DSN and key from a Secret), selectors that match,
# and a Role granting exactly the provider's API calls as plugins/k8s/api_calls.c
# lists them (the provider refuses any call not listed). The ConfigMap's
# daemon config passes --check-config with the Deployment's environment.
# Each kind of mistake, made on a copy, is reported.
. "$(dirname "$0")/lib.sh"
work=$(new_workdir); trap 'rm -rf "$work"' EXIT
sims=$MN_SOURCE_DIR/tests/sims/k8s
"$sims/setup.sh" || fail "cannot install the simulator's npm packages"
command -v jq >/dev/null || fail "jq is missing"

# the provider's calls, from the table between its markers
sed -n '/rbac-rules:begin/,/rbac-rules:end/p' "$MN_SOURCE_DIR/plugins/k8s/api_calls.c" |
  sed -n 's/^ *{"\([^"]*\)", "\([^"]*\)", "\([^"]*\)"},.*/["\1","\2","\3"]/p' | jq -cs . >"$work/rules.json"
rows=$(sed -n '/rbac-rules:begin/,/rbac-rules:end/p' "$MN_SOURCE_DIR/plugins/k8s/api_calls.c" | grep -c '^ *{')
[ "$(jq length "$work/rules.json")" = "$rows" ] && [ "$rows" -ge 5 ] ||
  fail "read $(jq length "$work/rules.json") of $rows rules from plugins/k8s/api_calls.c"

validate() { # DIR [render]: the validator's output; its status
  local rendered=()
  if [ "${2:-}" = render ] && command -v kubectl >/dev/null; then
    kubectl kustomize "$1" >"$work/rendered.yaml" 2>"$work/kustomize.err" || { cat "$work/kustomize.err"; return 1; }
    rendered=("$work/rendered.yaml")
  fi
  node "$sims/manifests.js" "$1" "$work/rules.json" "${rendered[@]}"
}
out=$(validate "$MN_SOURCE_DIR/deploy/k8s" render) || fail "deploy/k8s: $out"
how="kubernetes-models"; command -v kubectl >/dev/null && how="$how, and kubectl kustomize rendered"
pass "deploy/k8s valid ($how): $(jq -r '.objects | join(", ")' <<<"$out"); Role = the provider's $rows calls"

# the daemon config of the ConfigMap, with the Deployment's environment
/usr/bin/python3 -c 'import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
sys.stdout.write(docs[0]["data"]["multinoded.yaml"])' "$MN_SOURCE_DIR/deploy/k8s/configmap.yaml" >"$work/multinoded.yaml"
envs=()
while IFS= read -r kv; do envs+=("$kv"); done < <(jq -r '.env | to_entries[] | "\(.key)=\(.value)"' <<<"$out")
cfgout=$(env "${envs[@]}" MULTINODE_DATA_DIR="$work" MULTINODE_POSTGRES_DSN="host=db.example dbname=multinode" \
  MULTINODE_API_KEY=a-key-of-sixteen-or-more "$MN_BIN_DIR/multinoded" --check-config "$work/multinoded.yaml" 2>&1) ||
  fail "the ConfigMap's multinoded.yaml: $cfgout"
pass "the ConfigMap's daemon config passes --check-config with the Deployment's environment"

# mistakes, one per copy
mistake() { # WHAT EXPECTED FILE PYTHON_EDIT
  local what=$1 want=$2 file=$3 edit=$4 copy=$work/copy
  rm -rf "$copy"; cp -r "$MN_SOURCE_DIR/deploy/k8s" "$copy"
  /usr/bin/python3 -c 'import sys, yaml
path, edit = sys.argv[1], sys.argv[2]
docs = list(yaml.safe_load_all(open(path)))
exec(edit)
yaml.safe_dump_all(docs, open(path, "w"), sort_keys=False)' "$copy/$file" "$edit"
  local got
  got=$(validate "$copy") && fail "$what: not reported"
  grep -qF "$want" <<<"$got" || fail "$what: expected \"$want\", got: $got"
}
mistake "a verb missing" 'the provider calls " pods deletecollection"' rbac.yaml \
  'docs[1]["rules"][1]["verbs"].remove("deletecollection")'
mistake "a verb too many" 'grants " secrets list"' rbac.yaml \
  'docs[1]["rules"][3]["verbs"].append("list")'
mistake "a writable root" 'readOnlyRootFilesystem must be true' deployment.yaml \
  'docs[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False'
mistake "a schema violation" '/spec/replicas: must be integer' deployment.yaml \
  'docs[0]["spec"]["replicas"] = "two"'
mistake "the key in plain text" 'MULTINODE_API_KEY must come from a Secret' deployment.yaml \
  'c = docs[0]["spec"]["template"]["spec"]["containers"][0]; c["env"] = [e for e in c["env"] if e["name"] != "MULTINODE_API_KEY"] + [{"name": "MULTINODE_API_KEY", "value": "x"}]'
mistake "a probe elsewhere" 'readinessProbe on /healthz, want /readyz' deployment.yaml \
  'docs[0]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] = "/healthz"'
pass "mistakes reported: missing and extra Role verbs, writable root, schema, plain-text key, probe path"
