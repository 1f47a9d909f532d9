#!/usr/bin/env node
// Validates the control plane's Kubernetes manifests (deploy/k8s) the way the
// simulator validates what the provider sends: every object against the
// published schema (kubernetes-models), then what the schema cannot say.
//
//   node manifests.js DIR RULES_JSON [RENDERED]
//
// DIR holds kustomization.yaml and the files it lists (every *.yaml of DIR
// must be listed); RULES_JSON is the provider's API calls as
// [[group, resource, verb], ...] (plugins/k8s/api_calls.c), which the Role
// must grant exactly; RENDERED, when given, is `kubectl kustomize DIR` output,
// validated the same way. Prints one line per problem and exits 1, or prints
// a JSON summary and exits 0.
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const models = {
  'v1/ServiceAccount': require('kubernetes-models/v1/ServiceAccount').ServiceAccount,
  'v1/ConfigMap': require('kubernetes-models/v1/ConfigMap').ConfigMap,
  'v1/Service': require('kubernetes-models/v1/Service').Service,
  'apps/v1/Deployment': require('kubernetes-models/apps/v1/Deployment').Deployment,
  'policy/v1/PodDisruptionBudget': require('kubernetes-models/policy/v1/PodDisruptionBudget').PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': require('kubernetes-models/rbac.authorization.k8s.io/v1/Role').Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': require('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding').RoleBinding,
};
const [dir, rulesFile, rendered] = process.argv.slice(2);
const problems = [];
const bad = (msg) => problems.push(msg);

function parseAll(text, where) {
  const out = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) { bad(`${where}: ${doc.errors[0].message}`); continue; }
    const obj = doc.toJSON();
    if (obj) out.push({ obj, where });
  }
  return out;
}

function schemaCheck(objs) {
  for (const { obj, where } of objs) {
    const Model = models[`${obj.apiVersion}/${obj.kind}`];
    if (!Model) { bad(`${where}: ${obj.apiVersion} ${obj.kind} is not a kind the control plane uses`); continue; }
    try { new Model(obj).validate(); } catch (e) {
      for (const x of e.errors || [{ instancePath: '', message: e.message }])
        bad(`${where}: ${obj.kind}/${(obj.metadata || {}).name}${x.instancePath || ''}: ${x.message}`);
    }
  }
}

// The files: kustomization.yaml lists every manifest of DIR, each exists.
const kz = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
const listed = new Set(kz.resources || []);
for (const f of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml'))
  if (!listed.has(f)) bad(`${f}: not listed in kustomization.yaml resources`);
const objs = [];
for (const f of listed) {
  if (!fs.existsSync(path.join(dir, f))) { bad(`kustomization.yaml: ${f} does not exist`); continue; }
  objs.push(...parseAll(fs.readFileSync(path.join(dir, f), 'utf8'), f));
}
schemaCheck(objs);
if (rendered) schemaCheck(parseAll(fs.readFileSync(rendered, 'utf8'), 'kustomize output'));

const one = (kind) => {
  const found = objs.filter((o) => o.obj.kind === kind).map((o) => o.obj);
  if (found.length !== 1) bad(`expected one ${kind}, found ${found.length}`);
  return found[0] || { metadata: {}, spec: {} };
};
const dep = one('Deployment'), svc = one('Service'), sa = one('ServiceAccount');
const role = one('Role'), rb = one('RoleBinding'), pdb = one('PodDisruptionBudget');
const cm = one('ConfigMap');
const ds = dep.spec || {}, tpl = (ds.template || {}), ps = tpl.spec || {};
const podLabels = (tpl.metadata || {}).labels || {};
const matches = (sel) => Object.entries(sel || {}).length > 0 &&
  Object.entries(sel).every(([k, v]) => podLabels[k] === v);
const c = (ps.containers || [])[0] || {};

// The Deployment
if (ds.replicas !== 2) bad(`Deployment: replicas ${ds.replicas}, want 2`);
if (!matches((ds.selector || {}).matchLabels)) bad('Deployment: selector does not match its pods');
if ((ps.containers || []).length !== 1) bad('Deployment: want one container');
const probe = (p) => (((c[p] || {}).httpGet) || {}).path;
if (probe('livenessProbe') !== '/healthz') bad(`livenessProbe on ${probe('livenessProbe')}, want /healthz`);
if (probe('readinessProbe') !== '/readyz') bad(`readinessProbe on ${probe('readinessProbe')}, want /readyz`);
const req = (c.resources || {}).requests || {};
if (!req.cpu || !req.memory) bad('Deployment: resource requests for cpu and memory are needed');
const psc = ps.securityContext || {}, csc = c.securityContext || {};
if (psc.runAsNonRoot !== true || !(psc.runAsUser > 0)) bad('Deployment: pods must run as non-root (runAsNonRoot, runAsUser > 0)');
if (csc.readOnlyRootFilesystem !== true) bad('Deployment: readOnlyRootFilesystem must be true');
if (csc.allowPrivilegeEscalation !== false) bad('Deployment: allowPrivilegeEscalation must be false');
if (!((csc.capabilities || {}).drop || []).includes('ALL')) bad('Deployment: capabilities must drop ALL');
const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
for (const [name, key] of [['MULTINODE_POSTGRES_DSN', 'dsn'], ['MULTINODE_API_KEY', 'admin-key']]) {
  const ref = ((env[name] || {}).valueFrom || {}).secretKeyRef || {};
  if (ref.key !== key || !ref.name) bad(`Deployment: ${name} must come from a Secret (key ${key})`);
}
if (ps.serviceAccountName !== sa.metadata.name) bad(`Deployment: serviceAccountName ${ps.serviceAccountName}, want ${sa.metadata.name}`);
const mounts = Object.fromEntries((c.volumeMounts || []).map((m) => [m.name, m.mountPath]));
const vols = Object.fromEntries((ps.volumes || []).map((v) => [v.name, v]));
for (const m of Object.keys(mounts)) if (!vols[m]) bad(`Deployment: volumeMount ${m} has no volume`);
const cmVol = Object.values(vols).find((v) => v.configMap);
if (!cmVol || cmVol.configMap.name !== cm.metadata.name) bad('Deployment: the config volume must be the ConfigMap');
const dataDir = (env.MULTINODE_DATA_DIR || {}).value;
if (!dataDir || !Object.values(mounts).includes(dataDir)) bad('Deployment: MULTINODE_DATA_DIR must be a mounted volume (the root filesystem is read-only)');
// The Service, the PodDisruptionBudget
if (!matches((svc.spec || {}).selector)) bad('Service: selector does not match the pods');
const pdbSpec = pdb.spec || {};
if (!matches((pdbSpec.selector || {}).matchLabels)) bad('PodDisruptionBudget: selector does not match the pods');
if (!(pdbSpec.minAvailable >= 1 || pdbSpec.maxUnavailable === 1)) bad('PodDisruptionBudget: must keep a daemon up');
// RBAC: the binding, and the rules exactly the provider's calls
const subj = (rb.subjects || [])[0] || {};
if (subj.kind !== 'ServiceAccount' || subj.name !== sa.metadata.name) bad('RoleBinding: must bind the ServiceAccount');
if ((rb.roleRef || {}).kind !== 'Role' || rb.roleRef.name !== role.metadata.name) bad('RoleBinding: must reference the Role');
const granted = new Set(), needed = new Set(JSON.parse(fs.readFileSync(rulesFile, 'utf8')).map((r) => r.join(' ')));
for (const r of role.rules || [])
  for (const g of r.apiGroups || []) for (const res of r.resources || []) for (const v of r.verbs || [])
    granted.add([g, res, v].join(' '));
for (const n of needed) if (!granted.has(n)) bad(`Role: the provider calls "${n}" (group resource verb), which the Role does not grant`);
for (const g of granted) if (!needed.has(g)) bad(`Role: grants "${g}" (group resource verb), which the provider never calls`);
if (!needed.size) bad('no provider calls given');

if (problems.length) { for (const p of problems) console.log(p); process.exit(1); }
console.log(JSON.stringify({ objects: objs.map((o) => `${o.obj.kind}/${o.obj.metadata.name}`),
  rules: granted.size, config: (cm.data || {})['multinoded.yaml'] ? 'multinoded.yaml' : null,
  env: Object.fromEntries(Object.entries(env).filter(([, e]) => 'value' in e).map(([k, e]) => [k, e.value])) }));
