#!/usr/bin/env bash
# Per-execution keys through the k8s provider and the API simulator
# (docs/k8s.md, "The execution's key"; docs/security.md, "Execution keys on
# each provider"):
#  - a pod's task proves from inside that its key is its own, refused outside
#    its scope, allowed to start and cancel its own child, and refused once
#    its execution ended (tests/e2e/lib_execution_keys.sh);
#  - the key is in a Secret named like the Job, labelled like it and owned
#    by it (ownerReferences with the Job's uid); the Job and the pod carry
#    only a secretKeyRef; no Job or pod ever stored holds any key;
#  - the pod came before its Secret, waited for it and started once it was
#    written; release deletes the Secret; deleting a Job deletes its Secret
#    (the garbage collector); a Secret created but whose answer was lost is
#    found by the repeated launch and given its key again (merge patch: the
#    same key, since an execution's key derives from its id); a pod
#    whose Secret is gone is pending until pending_timeout, then fails with
#    the reason;
#  - neither the daemon's nor the simulator's log holds a key; zero schema
#    violations and no request outside deploy/k8s/rbac.yaml.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/k8s.sh"
. "$(dirname "$0")/lib_execution_keys.sh"

xk_admin_key
prov_setup
daemon_config main "scheduler:
  termination_grace_seconds: 2s
  inspect_interval_ms: 200
$(prov_yaml)
    pending_timeout: 3s"
daemon_start main
xk_setup "$SC_IMAGE"
xk_probe_start

kget() { curl -sfk --max-time 10 -H "Authorization: Bearer $K8S_TOKEN" "$K8S_URL$1"; }
kcode() { # METHOD PATH [BODY]: the status
  curl -sk --max-time 10 -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $K8S_TOKEN" \
    ${3:+-H 'Content-Type: application/json' --data "$3"} "$K8S_URL$2"
}
ns=/namespaces/$K8S_NS

# --- while the probe runs: its Job, its pod, its Secret -----------------------
job=mn-$XK_EXE
j=$(kget "/apis/batch/v1$ns/jobs/$job") || fail "no Job $job"
s=$(kget "/api/v1$ns/secrets/$job") || fail "no Secret $job"
jq -e --argjson j "$j" --arg n "$job" '.type == "Opaque" and (.data | keys) == ["MULTINODE_API_KEY"] and
  .metadata.ownerReferences == [{apiVersion: "batch/v1", kind: "Job", name: $n, uid: $j.metadata.uid}] and
  .metadata.labels == $j.metadata.labels and
  .metadata.annotations["multinode.dev/execution"] == $j.metadata.annotations["multinode.dev/execution"]' \
  <<<"$s" >/dev/null || fail "the Secret: $(jq -c '.data |= keys' <<<"$s")"
secret_key=$(jq -r .data.MULTINODE_API_KEY <<<"$s" | base64 -d)
[[ $secret_key == mnx_* ]] || fail "the Secret holds no execution key"
ref='[.spec.template.spec.containers[0].env[] | select(.name == "MULTINODE_API_KEY")]'
jq -e --arg n "$job" "$ref"' == [{name: "MULTINODE_API_KEY",
  valueFrom: {secretKeyRef: {name: $n, key: "MULTINODE_API_KEY"}}}]' <<<"$j" >/dev/null ||
  fail "the Job's MULTINODE_API_KEY: $(jq -c "$ref" <<<"$j")"
pods=$(kget "/api/v1$ns/pods?labelSelector=job-name%3D$job")
jq -e --arg n "$job" '(.items | length) == 1 and ([.items[0].spec.containers[0].env[] |
  select(.name == "MULTINODE_API_KEY")] == [{name: "MULTINODE_API_KEY",
  valueFrom: {secretKeyRef: {name: $n, key: "MULTINODE_API_KEY"}}}])' <<<"$pods" >/dev/null ||
  fail "the pod's MULTINODE_API_KEY: $(jq -c '[.items[].spec.containers[0].env[] | select(.name == "MULTINODE_API_KEY")]' <<<"$pods")"
pass "running: the key in Secret $job (Opaque, labelled like the Job, owned by its uid);" \
  "the Job and the pod carry only secretKeyRef {name: $job, key: MULTINODE_API_KEY}"
grep -qF "pod $K8S_NS/$job-" "$MN_WORK/k8s-sim.log" &&
  grep -q "pod $K8S_NS/$job-[a-z0-9]*: waiting: secret \"$job\" not found" "$MN_WORK/k8s-sim.log" ||
  fail "the pod did not wait for its Secret: $(grep -F "$job" "$MN_WORK/k8s-sim.log")"
pass "the pod came before its Secret (the Job first): it waited (CreateContainerConfigError) and then ran"

# --- the probe's answers, then its key once ended -----------------------------
xk_probe_finish
[ "$XK_KEY" = "$secret_key" ] || fail "the pod's MULTINODE_API_KEY is not the one in its Secret"
pass "the pod's MULTINODE_API_KEY is the Secret's (the kubelet resolved the secretKeyRef)"
xk_check_ended
secret_gone() { [ "$(kcode GET "/api/v1$ns/secrets/$1")" = 404 ]; }
wait_until 10 "release to delete Secret $job" secret_gone "$job"
[ "$(kcode GET "/apis/batch/v1$ns/jobs/$job")" = 200 ] || fail "the finished Job is gone (its TTL is 1 h)"
pass "released: Secret $job deleted, the finished Job stays for its TTL (its log)"

# --- the garbage collector: the other project's Job deleted, its Secret too ---
ojob=mn-$XK_OEXE
[ "$(kcode GET "/api/v1$ns/secrets/$ojob")" = 200 ] || fail "no Secret $ojob for the running other/slow"
[ "$(kcode DELETE "/apis/batch/v1$ns/jobs/$ojob" '{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Background"}')" = 200 ] ||
  fail "cannot delete Job $ojob"
wait_until 10 "Secret $ojob to be garbage-collected" secret_gone "$ojob"
k8s_ctl GET /_sim/objects | jq -e --arg n "$ojob" '[.secrets[] | select(.obj.metadata.name == $n) |
  .deleted] | length > 0 and all(startswith("garbage-collected with its owner"))' >/dev/null ||
  fail "Secret $ojob was not deleted by the garbage collector: $(k8s_ctl GET /_sim/objects |
    jq -c --arg n "$ojob" '[.secrets[] | select(.obj.metadata.name == $n) | .deleted]')"
pass "Job $ojob deleted (Background): its Secret garbage-collected with it (ownerReferences)"

# --- a launch repeated after a lost answer: the Secret found, the same key ----
k8s_ctl POST /_sim/fault '{"kind":"hold_pods","on":true}' >/dev/null
k8s_ctl POST /_sim/fault '{"kind":"lose_answer","verb":"create","resource":"secrets","count":1}' >/dev/null
qbase=/projects/keys/versions/$XK_VK/functions/quick
q=$(api POST "$qbase/invocations" '{"input":""}' | jq -r .invocation_id)
patched() { [ "$(k8s_requests 'patch secrets')" -ge 1 ]; }
wait_until 30 "the repeated launch to patch the Secret" patched
qexe=$(api GET "$qbase/invocations/$q" | jq -r .executions[0].execution_id)
k8s_ctl GET /_sim/objects | jq -e --arg n "mn-$qexe" '[.secrets[] | select(.obj.metadata.name == $n) |
  .obj.data.MULTINODE_API_KEY] | length == 2 and .[0] == .[1]' >/dev/null ||
  fail "Secret mn-$qexe: not one create and one patch with the same key"
k8s_ctl POST /_sim/fault '{"kind":"hold_pods","on":false}' >/dev/null
q_done() { api GET "$qbase/invocations/$q" | jq -e '.invocation_status == "TERMINATED"'; }
wait_until 30 "the relaunched invocation to end" q_done
api GET "$qbase/invocations/$q" | jq -e '(.executions | length) == 1 and
  .executions[0].outcome == "SUCCEEDED" and .executions[0].output == "quick"' >/dev/null ||
  fail "the relaunched invocation: $(api GET "$qbase/invocations/$q")"
grep -q "execution $qexe: adopted existing job" "$MN_WORK/main.log" &&
  grep -q "execution $qexe: secret $K8S_NS/mn-$qexe found again (409)" "$MN_WORK/main.log" ||
  fail "the repeated launch did not adopt the Job and find the Secret"
pass "a Secret created but its answer lost (504): the repeated launch adopted the Job (409)," \
  "found the Secret (409) and set the same key again (merge patch); the pod ran with it: SUCCEEDED"

# --- a pod whose Secret is gone waits, then fails after pending_timeout ---------
k8s_ctl POST /_sim/fault '{"kind":"hold_pods","on":true}' >/dev/null
w=$(api POST "$qbase/invocations" '{"input":""}' | jq -r .invocation_id)
launched() { api GET "$qbase/invocations/$w" | jq -e '.executions[0].worker_details.identifier != null'; }
wait_until 30 "the launch of $w" launched
wexe=$(api GET "$qbase/invocations/$w" | jq -r .executions[0].execution_id)
[ "$(kcode DELETE "/api/v1$ns/secrets/mn-$wexe")" = 200 ] || fail "cannot delete Secret mn-$wexe"
k8s_ctl POST /_sim/fault '{"kind":"hold_pods","on":false}' >/dev/null
w_done() { api GET "$qbase/invocations/$w" | jq -e '.invocation_status == "TERMINATED"'; }
wait_until 30 "the invocation without a Secret to end" w_done
api GET "$qbase/invocations/$w" | jq -e --arg m "the worker ended: pod Pending for more than 3 s: CreateContainerConfigError: secret \"mn-$wexe\" not found" \
  '.executions[0] | .outcome == null and .error_message == $m' >/dev/null ||
  fail "the pod without its Secret: $(api GET "$qbase/invocations/$w" | jq -c .executions)"
pass "a pod waiting for its Secret is pending, not failed: without it, the attempt ends" \
  "after pending_timeout with the reason (CreateContainerConfigError: secret not found)"

# --- no key in any Job or pod ever stored; only secretKeyRefs -----------------
objs=$(k8s_ctl GET /_sim/objects)
mapfile -t keys < <(jq -r '.secrets[].obj.data.MULTINODE_API_KEY // empty' <<<"$objs" | sort -u |
  while read -r b; do base64 -d <<<"$b"; echo; done)
nsec=$(jq '[.secrets[].obj.metadata.uid] | unique | length' <<<"$objs")
[ "${#keys[@]}" -ge 2 ] || fail "expected the keys of at least the probe and other/slow, got ${#keys[@]}"
specs=$(jq -c '[.jobs[].obj, .pods[].obj]' <<<"$objs")
for k in "${keys[@]}" "$MN_KEY"; do
  if grep -qF "$k" <<<"$specs"; then fail "a key is in a Job or pod spec"; fi
done
jq -e '[.[] | (.spec.template.spec // .spec).containers[].env[] | select(.name == "MULTINODE_API_KEY")] |
  length > 0 and all(has("value") | not) and all(.valueFrom.secretKeyRef.key == "MULTINODE_API_KEY")' \
  <<<"$specs" >/dev/null || fail "a Job or pod has a MULTINODE_API_KEY that is not a secretKeyRef"
pass "$(jq '.jobs | length' <<<"$objs") Jobs and $(jq '.pods | length' <<<"$objs") pods ever stored:" \
  "no key (${#keys[@]} execution keys of $nsec Secrets, nor the admin key), only secretKeyRefs"

xk_no_key_in "$MN_WORK/main.log" "$MN_WORK/k8s-sim.log"
pass "neither the daemon's log nor the simulator's holds a key"
k8s_assert_no_violations
