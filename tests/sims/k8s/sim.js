#!/usr/bin/env node
// A Kubernetes API simulator for the k8s provider's tests (plugins/k8s).
//
// It serves the part of the API the provider uses -- batch/v1 Jobs (create,
// get, list by label selector with limit/continue, delete with a
// propagationPolicy), v1 Pods (list, get, delete, delete-collection, JSON
// merge patch of the fields a running pod may change, log with
// timestamps/sinceTime) and v1 Secrets (create, get, list, JSON merge patch,
// delete) -- over HTTPS (a test CA; bearer tokens and client certificates)
// or plain HTTP. Every object it receives is validated against the published
// Kubernetes OpenAPI schema through the npm package kubernetes-models (plus
// the API server's own checks on names, label values, env sources and
// Secret data keys); a violation is counted and answered 422 with a Status,
// like the API server does.
//
// The garbage collector is played too: deleting a Job (Background or
// Foreground; also its TTL) deletes the Secrets whose ownerReferences name
// its uid (Orphan removes the reference instead), and a Secret whose owners
// do not exist is deleted shortly after it is written.
//
// Each Job's pod runs as a REAL local process: argv = the image's entrypoint
// (--entrypoint) followed by the container's args, env = the container's env
// (plus PATH/HOME of the simulator), valueFrom.secretKeyRef resolved from
// the Secret when the container starts: while the Secret or its key is
// missing the container waits (CreateContainerConfigError, as the kubelet
// reports it) and starts once the Secret is written. Its output becomes the pod log, with
// RFC 3339 timestamps. Job conditions (Complete/Failed) and the pod's
// containerStatuses (running, terminated.exitCode and reason Completed/Error/
// OOMKilled, waiting.reason ErrImagePull/ImagePullBackOff, Pending with an
// Unschedulable condition) are reported like the API does. Deleting a pod
// sends SIGTERM to its main process and SIGKILL to the whole container
// (process group) after the grace period. The kubelet's active deadline is
// played too: once a running pod has been active longer than its
// spec.activeDeadlineSeconds (set at creation or lowered by a patch), its
// container gets SIGTERM, SIGKILL after terminationGracePeriodSeconds, and
// the pod stays, Failed with reason DeadlineExceeded, its log readable; its
// Job then fails (backoffLimit 0: BackoffLimitExceeded).
//
// Control endpoint (no auth), for the tests: see handleControl below.
//   GET  /_sim/stats                 request counts, violations, jobs created,
//                                    apiConnections (new API client connections)
//   POST /_sim/fault  {...}          inject faults (see addFault)
//   POST /_sim/kill   {selector}     SIGKILL the containers of matching pods
//   GET  /_sim/pods?selector=...     pods with their pid and whether it runs
//   GET  /_sim/objects               every Job, Pod and Secret ever stored (also
//                                    deleted ones, marked), as last seen
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const crypto = require('crypto');
const { spawn } = require('child_process');
const { Job } = require('kubernetes-models/batch/v1/Job');
const { Secret } = require('kubernetes-models/v1/Secret');
const { Pod } = require('kubernetes-models/v1/Pod');
const { DeleteOptions } = require('@kubernetes-models/apimachinery/apis/meta/v1/DeleteOptions');
const { Role } = require('kubernetes-models/rbac.authorization.k8s.io/v1/Role');
const { RoleBinding } = require('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding');
const { ServiceAccount } = require('kubernetes-models/v1/ServiceAccount');
const YAML = require('yaml');

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', tokens: [], tokenFiles: [], http: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--port': o.port = Number(next()); break;
      case '--port-file': o.portFile = next(); break;
      case '--http': o.http = true; break;
      case '--cert': o.cert = next(); break;
      case '--key': o.key = next(); break;
      case '--client-ca': o.clientCa = next(); break;
      case '--token': o.tokens.push(next()); break;
      case '--token-file': o.tokenFiles.push(next()); break;
      case '--entrypoint': o.entrypoint = next(); break;
      case '--log': o.log = next(); break;
      case '--rbac': o.rbac = next(); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (!o.entrypoint) throw new Error('--entrypoint is required');
  if (!o.http && (!o.cert || !o.key)) throw new Error('--cert and --key are required (or --http)');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const logStream = opt.log ? fs.createWriteStream(opt.log, { flags: 'a' }) : process.stderr;
function log(msg) { logStream.write(`${new Date().toISOString()} ${msg}\n`); }

// ---------------------------------------------------------------------------
// RBAC (--rbac FILE): the Role(s) of a manifest, validated against the
// schema; every API request must then be allowed by one of their rules, or
// it is answered 403 Forbidden like the API server's authorizer does.

function loadRbac(path) {
  const kinds = { Role, RoleBinding, ServiceAccount };
  const rules = [];
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(path, 'utf8'))) {
    const obj = doc.toJSON();
    if (!obj) continue;
    const Model = kinds[obj.kind];
    if (!Model) throw new Error(`${path}: unexpected kind ${obj.kind}`);
    new Model(obj).validate(); // throws on a schema violation
    if (obj.kind === 'Role') rules.push(...obj.rules);
  }
  if (!rules.length) throw new Error(`${path}: no Role rules`);
  return rules;
}
const rbacRules = opt.rbac ? loadRbac(opt.rbac) : null;
function rbacAllows(group, resource, verb) {
  if (!rbacRules) return true;
  return rbacRules.some((r) => (r.apiGroups || []).includes(group) &&
    ((r.resources || []).includes(resource) || (r.resources || []).includes('*')) &&
    ((r.verbs || []).includes(verb) || (r.verbs || []).includes('*')));
}

// ---------------------------------------------------------------------------
// State

const jobs = new Map(); // "ns/name" -> job object
const secrets = new Map(); // "ns/name" -> secret object
const everyJob = []; // every job ever stored, also after its deletion (for /_sim/objects)
const everySecret = []; // likewise, every secret object ever stored (each version)
const pods = new Map(); // "ns/name" -> { obj, proc, lines, partial, killTimer, ... }
const everyPod = []; // every pod ever started, also after its deletion (for /_sim/pods)
const stats = { requests: {}, violations: 0, violationDetails: [], jobsCreated: 0, authFailures: 0,
  secretsCreated: 0, secretsDeleted: 0, secretsCollected: 0, apiConnections: 0, podsPatched: 0,
  podsDeadlineExceeded: 0 };
const faults = { conflictNextCreate: 0, statuses: [], createDelayMs: 0, jobStatusDelayMs: 0, pendingImages: new Set(),
  pullFailImages: new Set(), oomImages: new Set(), pendingAll: false, lostAnswers: [], holdPods: false };
let resourceVersion = 1000;
let nsClock = 0n; // strictly increasing nanosecond timestamps

function nowNs() {
  let t = BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
  if (t <= nsClock) t = nsClock + 1n;
  nsClock = t;
  return t;
}
// RFC 3339 with nanoseconds, trailing zeros trimmed (as Go's RFC3339Nano).
function fmtNs(ns) {
  const secs = ns / 1000000000n, frac = ns % 1000000000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  let f = frac.toString().padStart(9, '0').replace(/0+$/, '');
  return f ? `${base}.${f}Z` : `${base}Z`;
}
function nowSec() { return new Date().toISOString().slice(0, 19) + 'Z'; }

function count(key) { stats.requests[key] = (stats.requests[key] || 0) + 1; }

// ---------------------------------------------------------------------------
// Validation: the published schema (kubernetes-models) plus the API server's
// own checks that the schema does not express.

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Sub = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const quantity = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function checkLabels(where, labels, errs) {
  for (const [k, v] of Object.entries(labels || {})) {
    const parts = k.split('/');
    const name = parts.pop();
    const prefix = parts.join('/');
    if (parts.length > 1 || (prefix && (!dns1123Sub.test(prefix) || prefix.length > 253)) ||
        !labelName.test(name) || name.length > 63)
      errs.push(`${where}.labels: Invalid value: "${k}": invalid label key`);
    if (typeof v !== 'string' || v.length > 63 || !labelValue.test(v))
      errs.push(`${where}.labels: Invalid value: "${v}": a valid label must be 63 characters ` +
        'or less and consist of alphanumeric characters, \'-\', \'_\' or \'.\'');
  }
}

function validateJob(obj) {
  const errs = [];
  if (!obj || typeof obj !== 'object') return ['the body is not an object'];
  if (obj.apiVersion !== 'batch/v1') errs.push(`apiVersion: Invalid value: "${obj.apiVersion}"`);
  if (obj.kind !== 'Job') errs.push(`kind: Invalid value: "${obj.kind}"`);
  try { new Job(obj).validate(); } catch (e) {
    for (const x of e.errors || [{ instancePath: '', message: e.message }])
      errs.push(`${x.instancePath || '/'}: ${x.message}`);
  }
  if (errs.length) return errs;
  const md = obj.metadata || {};
  if (!md.name || md.name.length > 63 || !dns1123Label.test(md.name))
    errs.push(`metadata.name: Invalid value: "${md.name}": must be a DNS-1123 label of at most 63 characters`);
  checkLabels('metadata', md.labels, errs);
  const spec = obj.spec || {};
  const tpl = spec.template || {};
  checkLabels('spec.template.metadata', (tpl.metadata || {}).labels, errs);
  const ps = tpl.spec || {};
  if (!['Never', 'OnFailure'].includes(ps.restartPolicy))
    errs.push(`spec.template.spec.restartPolicy: Unsupported value: "${ps.restartPolicy}": supported values: "OnFailure", "Never"`);
  const names = new Set();
  for (const [i, c] of (ps.containers || []).entries()) {
    const w = `spec.template.spec.containers[${i}]`;
    if (!dns1123Label.test(c.name || '')) errs.push(`${w}.name: Invalid value: "${c.name}"`);
    if (names.has(c.name)) errs.push(`${w}.name: Duplicate value: "${c.name}"`);
    names.add(c.name);
    if (!c.image) errs.push(`${w}.image: Required value`);
    for (const [j, e] of (c.env || []).entries()) {
      const we = `${w}.env[${j}]`;
      if (!e.name || /=/.test(e.name)) errs.push(`${we}.name: Invalid value: "${e.name}"`);
      if (!e.valueFrom) continue;
      if (e.value) errs.push(`${we}.valueFrom: Invalid value: "": may not be specified when \`value\` is not empty`);
      const sources = Object.keys(e.valueFrom);
      if (sources.length !== 1)
        errs.push(`${we}.valueFrom: Invalid value: "": may not have more than one field specified at a time`);
      const ref = e.valueFrom.secretKeyRef;
      if (ref) {
        if (!ref.name || ref.name.length > 253 || !dns1123Sub.test(ref.name))
          errs.push(`${we}.valueFrom.secretKeyRef.name: Invalid value: "${ref.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
        if (!ref.key || !secretKey.test(ref.key))
          errs.push(`${we}.valueFrom.secretKeyRef.key: Invalid value: "${ref.key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
      }
    }
    for (const kind of ['requests', 'limits'])
      for (const [r, q] of Object.entries((c.resources || {})[kind] || {}))
        if (typeof q !== 'string' || !quantity.test(q))
          errs.push(`${w}.resources.${kind}[${r}]: Invalid value: "${q}": must be a quantity`);
  }
  if (!(ps.containers || []).length) errs.push('spec.template.spec.containers: Required value');
  return errs;
}

const secretKey = /^[-._a-zA-Z0-9]{1,253}$/;

// A Secret as written (after stringData was folded into data).
function validateSecret(obj) {
  const errs = [];
  if (!obj || typeof obj !== 'object') return ['the body is not an object'];
  if (obj.apiVersion !== 'v1') errs.push(`apiVersion: Invalid value: "${obj.apiVersion}"`);
  if (obj.kind !== 'Secret') errs.push(`kind: Invalid value: "${obj.kind}"`);
  try { new Secret(obj).validate(); } catch (e) {
    for (const x of e.errors || [{ instancePath: '', message: e.message }])
      errs.push(`${x.instancePath || '/'}: ${x.message}`);
  }
  if (errs.length) return errs;
  const md = obj.metadata || {};
  if (!md.name || md.name.length > 253 || !dns1123Sub.test(md.name))
    errs.push(`metadata.name: Invalid value: "${md.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
  checkLabels('metadata', md.labels, errs);
  for (const [i, o] of (md.ownerReferences || []).entries()) {
    if (!o.uid) errs.push(`metadata.ownerReferences[${i}].uid: Invalid value: "": uid must not be empty`);
    if (!o.name) errs.push(`metadata.ownerReferences[${i}].name: Invalid value: "": name must not be empty`);
    if (!o.apiVersion || !o.apiVersion.includes('/') && o.apiVersion !== 'v1')
      errs.push(`metadata.ownerReferences[${i}].apiVersion: Invalid value: "${o.apiVersion}": version must not be empty`);
  }
  let size = 0;
  for (const [k, v] of Object.entries(obj.data || {})) {
    if (!secretKey.test(k))
      errs.push(`data[${k}]: Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
    size += Buffer.from(v, 'base64').length;
  }
  if (size > 1048576) errs.push('data: Too long: must have at most 1048576 bytes');
  return errs;
}

function validateDeleteOptions(obj) {
  if (obj === undefined) return [];
  const errs = [];
  if (obj.kind !== undefined && obj.kind !== 'DeleteOptions') errs.push(`kind: "${obj.kind}"`);
  try { new DeleteOptions(obj).validate(); } catch (e) {
    for (const x of e.errors || [{ instancePath: '', message: e.message }])
      errs.push(`${x.instancePath || '/'}: ${x.message}`);
  }
  if (obj.propagationPolicy !== undefined &&
      !['Orphan', 'Background', 'Foreground'].includes(obj.propagationPolicy))
    errs.push(`propagationPolicy: Unsupported value: "${obj.propagationPolicy}"`);
  return errs;
}

function violation(what, errs) {
  stats.violations++;
  stats.violationDetails.push({ what, errors: errs });
  log(`schema violation in ${what}: ${errs.join('; ')}`);
}

// ---------------------------------------------------------------------------
// Label selectors (equality-based and existence, as the provider uses)

function parseSelector(s) {
  if (!s) return () => true;
  const reqs = s.split(',').filter(Boolean).map((term) => {
    let m;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) return (l) => l[m[1]] !== m[2];
    if ((m = /^([^!=]+)==?(.*)$/.exec(term))) return (l) => l[m[1]] === m[2];
    if ((m = /^!(.+)$/.exec(term))) return (l) => !(m[1] in l);
    return (l) => term in l;
  });
  return (labels) => reqs.every((r) => r(labels || {}));
}

// ---------------------------------------------------------------------------
// Pods as real processes

function podPhaseFromExit(code) { return code === 0 ? 'Succeeded' : 'Failed'; }

function setContainerState(p, state) {
  const cs = p.obj.status.containerStatuses[0];
  cs.state = state;
  cs.ready = !!state.running;
  if (state.running) cs.started = true;
  p.obj.metadata.resourceVersion = String(++resourceVersion);
}

function appendLog(p, chunk) {
  p.partial += chunk.toString('utf8');
  let i;
  while ((i = p.partial.indexOf('\n')) >= 0) {
    p.lines.push(`${fmtNs(nowNs())} ${p.partial.slice(0, i)}`);
    p.partial = p.partial.slice(i + 1);
  }
}

function finishJob(job, ok, reason, message) {
  if (!job || job.status.conditions.some((c) => c.type === 'Complete' || c.type === 'Failed'))
    return;
  const t = nowSec();
  job.status.active = 0;
  if (ok) {
    job.status.succeeded = 1;
    job.status.completionTime = t;
    job.status.conditions.push({ type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: t,
      lastTransitionTime: t, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    job.status.conditions.push({ type: 'Complete', status: 'True', lastProbeTime: t,
      lastTransitionTime: t, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
  } else {
    job.status.failed = 1;
    job.status.conditions.push({ type: 'FailureTarget', status: 'True', lastProbeTime: t,
      lastTransitionTime: t, reason, message });
    job.status.conditions.push({ type: 'Failed', status: 'True', lastProbeTime: t,
      lastTransitionTime: t, reason, message });
  }
  job.metadata.resourceVersion = String(++resourceVersion);
  const ttl = job.spec.ttlSecondsAfterFinished;
  if (typeof ttl === 'number') {
    const key = `${job.metadata.namespace}/${job.metadata.name}`;
    setTimeout(() => {
      if (jobs.get(key) !== job) return;
      log(`job ${key}: ttlSecondsAfterFinished (${ttl} s) passed: deleted`);
      jobs.delete(key);
      for (const [pk, p] of pods) if (p.jobKey === key) deletePod(pk, p, 0);
      collectDependents(job.metadata.namespace, job.metadata.uid, 'Foreground');
    }, ttl * 1000).unref();
  }
}

// ---------------------------------------------------------------------------
// Secrets and the garbage collector

function storeSecret(key, sec) {
  secrets.set(key, sec);
  everySecret.push({ obj: JSON.parse(JSON.stringify(sec)), deleted: false });
}

function dropSecret(key, why) {
  const sec = secrets.get(key);
  if (!sec) return false;
  secrets.delete(key);
  for (const e of everySecret) if (e.obj.metadata.uid === sec.metadata.uid) e.deleted = why;
  log(`secret ${key}: deleted (${why})`);
  return true;
}

function ownerExists(ns, o) {
  if (o.kind !== 'Job' || o.apiVersion !== 'batch/v1') return false;
  const j = jobs.get(`${ns}/${o.name}`);
  return !!j && j.metadata.uid === o.uid;
}

// The owner (a Job of uid) was deleted with `policy`: its dependent Secrets
// are deleted, or lose the reference when the policy is Orphan.
function collectDependents(ns, uid, policy) {
  for (const [key, sec] of [...secrets]) {
    if (sec.metadata.namespace !== ns) continue;
    const refs = sec.metadata.ownerReferences || [];
    if (!refs.some((o) => o.uid === uid)) continue;
    if (policy === 'Orphan') {
      sec.metadata.ownerReferences = refs.filter((o) => o.uid !== uid);
      sec.metadata.resourceVersion = String(++resourceVersion);
      log(`secret ${key}: orphaned`);
    } else if (refs.every((o) => o.uid === uid || !ownerExists(ns, o))) {
      if (dropSecret(key, `garbage-collected with its owner ${uid}`)) stats.secretsCollected++;
    }
  }
}

// The garbage collector deletes a dependent whose owners are all absent.
function collectIfOrphaned(key) {
  setTimeout(() => {
    const sec = secrets.get(key);
    if (!sec) return;
    const refs = sec.metadata.ownerReferences || [];
    if (refs.length && !refs.some((o) => ownerExists(sec.metadata.namespace, o)))
      if (dropSecret(key, 'garbage-collected: no owner exists')) stats.secretsCollected++;
  }, 100).unref();
}

// RFC 7386 JSON merge patch
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? Object.assign({}, target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// stringData is write-only: folded into data (base64) on every write.
function foldStringData(obj) {
  if (obj && obj.stringData && typeof obj.stringData === 'object') {
    obj.data = Object.assign({}, obj.data || {});
    for (const [k, v] of Object.entries(obj.stringData))
      obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete obj.stringData;
  }
  return obj;
}

// The pods waiting for a Secret that was just written try again.
function secretWritten(key) {
  for (const [pk, p] of pods) if (p.waitingFor === key && !p.proc) runContainer(pk, p);
}

function startPod(job) {
  const ns = job.metadata.namespace, jobName = job.metadata.name;
  const jobKey = `${ns}/${jobName}`;
  const name = `${jobName}-${crypto.randomBytes(3).toString('hex').slice(0, 5)}`;
  const tpl = job.spec.template;
  const c = tpl.spec.containers[0];
  const labels = Object.assign({}, (tpl.metadata || {}).labels, {
    'batch.kubernetes.io/controller-uid': job.metadata.uid,
    'batch.kubernetes.io/job-name': jobName, 'controller-uid': job.metadata.uid, 'job-name': jobName,
  });
  const t = nowSec();
  const obj = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, uid: crypto.randomUUID(), creationTimestamp: t,
      resourceVersion: String(++resourceVersion), labels,
      annotations: Object.assign({}, (tpl.metadata || {}).annotations),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata.uid,
        controller: true, blockOwnerDeletion: true }] },
    spec: JSON.parse(JSON.stringify(tpl.spec)),
    status: { phase: 'Pending', conditions: [], containerStatuses: [{ name: c.name, image: c.image,
      imageID: '', ready: false, restartCount: 0, started: false,
      state: { waiting: { reason: 'ContainerCreating' } } }] },
  };
  const p = { obj, jobKey, proc: null, pid: 0, lines: [], partial: '', exited: false,
    killAt: null, killTimer: null, oom: false };
  pods.set(`${ns}/${name}`, p);
  everyPod.push(p);
  job.status.active = 1;
  job.status.startTime = t;

  if (faults.pullFailImages.has(c.image)) {
    setContainerState(p, { waiting: { reason: 'ErrImagePull',
      message: `rpc error: code = Unknown desc = failed to pull and unpack image "${c.image}": pull access denied` } });
    setTimeout(() => {
      if (!p.exited && p.obj.status.containerStatuses[0].state.waiting)
        setContainerState(p, { waiting: { reason: 'ImagePullBackOff',
          message: `Back-off pulling image "${c.image}"` } });
    }, 500).unref();
    return;
  }
  if (faults.pendingAll || faults.pendingImages.has(c.image)) {
    obj.status.conditions.push({ type: 'PodScheduled', status: 'False', lastTransitionTime: t,
      reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' });
    delete obj.status.containerStatuses;
    return;
  }
  p.job = job;
  if (faults.holdPods) { // the kubelet has not got to it yet
    p.held = true;
    log(`pod ${ns}/${name}: held (ContainerCreating)`);
    return;
  }
  runContainer(`${ns}/${name}`, p);
}

// A request that was carried out but whose answer is lost (a timeout
// between the API server and its client): the next `count` ones of
// verb/resource answer 504 instead.
function answerLost(verb, resource) {
  const f = faults.lostAnswers.find((x) => x.count > 0 && x.verb === verb && x.resource === resource);
  if (!f) return false;
  f.count--;
  log(`${verb} ${resource}: done, answer lost (504)`);
  return true;
}

// The env of a container, its secretKeyRefs resolved; or the waiting state
// the kubelet reports when a Secret or one of its keys is missing.
function containerEnv(ns, c, base) {
  const env = Object.assign({}, base);
  for (const e of c.env || []) {
    const ref = e.valueFrom && e.valueFrom.secretKeyRef;
    if (!ref) { env[e.name] = e.value === undefined ? '' : e.value; continue; }
    const sec = secrets.get(`${ns}/${ref.name}`);
    if (!sec) {
      if (ref.optional) continue;
      return { wait: `${ns}/${ref.name}`, message: `secret "${ref.name}" not found` };
    }
    const v = (sec.data || {})[ref.key];
    if (v === undefined) {
      if (ref.optional) continue;
      return { wait: `${ns}/${ref.name}`, message: `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` };
    }
    env[e.name] = Buffer.from(v, 'base64').toString('utf8');
  }
  return { env };
}

function runContainer(podKey, p) {
  const obj = p.obj, job = p.job, jobKey = p.jobKey;
  const ns = obj.metadata.namespace, name = obj.metadata.name;
  const c = obj.spec.containers[0];
  const resolved = containerEnv(ns, c, { PATH: process.env.PATH, HOME: process.env.HOME || '/root',
    MN_K8S_SIM_POD: obj.metadata.uid });
  if (resolved.wait) {
    p.waitingFor = resolved.wait;
    const w = obj.status.containerStatuses[0].state.waiting;
    if (!w || w.message !== resolved.message) {
      setContainerState(p, { waiting: { reason: 'CreateContainerConfigError', message: resolved.message } });
      log(`pod ${podKey}: waiting: ${resolved.message}`);
    }
    return;
  }
  p.waitingFor = null;
  const env = resolved.env;
  const t = nowSec();
  const argv = [...(c.command && c.command.length ? c.command : [opt.entrypoint]), ...(c.args || [])];
  let proc;
  try {
    proc = spawn(argv[0], argv.slice(1), { env, cwd: '/', detached: true,
      stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    setContainerState(p, { waiting: { reason: 'CreateContainerError', message: String(e) } });
    return;
  }
  p.proc = proc;
  p.pid = proc.pid;
  obj.status.phase = 'Running';
  obj.status.podIP = '127.0.0.1';
  obj.status.startTime = t;
  p.startMs = Date.parse(t); // startTime as the API keeps it (whole seconds)
  armDeadline(podKey, p);
  obj.status.conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: t });
  obj.status.conditions.push({ type: 'Ready', status: 'True', lastTransitionTime: t });
  setContainerState(p, { running: { startedAt: t } });
  proc.stdout.on('data', (d) => appendLog(p, d));
  proc.stderr.on('data', (d) => appendLog(p, d));
  proc.on('error', (e) => log(`pod ${name}: ${e}`));
  if (faults.oomImages.has(c.image)) {
    setTimeout(() => { p.oom = true; killGroup(p, 'SIGKILL'); }, 200).unref();
  }
  // the container's PID 1 ended: nothing else of the container survives it
  proc.on('exit', () => { p.mainExited = true; killGroup(p, 'SIGKILL'); });
  proc.on('close', (code, signal) => {
    if (p.partial) { appendLog(p, '\n'); }
    p.exited = true;
    if (p.killTimer) clearTimeout(p.killTimer);
    const exitCode = code !== null ? code : 128 + (require('os').constants.signals[signal] || 0);
    const reason = p.oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const ft = nowSec();
    if (p.deadlineTimer) clearTimeout(p.deadlineTimer);
    obj.status.phase = p.deadlineExceeded ? 'Failed' : podPhaseFromExit(exitCode);
    if (p.deadlineExceeded) {
      obj.status.reason = 'DeadlineExceeded';
      obj.status.message = 'Pod was active on the node longer than the specified deadline';
      for (const c of obj.status.conditions) if (c.type === 'Ready') { c.status = 'False'; c.reason = 'PodFailed'; }
    }
    setContainerState(p, { terminated: { exitCode, reason, startedAt: t, finishedAt: ft,
      ...(signal ? { signal: require('os').constants.signals[signal] } : {}) } });
    log(`pod ${ns}/${name}: exited ${exitCode} (${reason})`);
    const finish = () => {
      const j = jobs.get(jobKey);
      if (j && j.metadata.uid === job.metadata.uid && !p.deleting)
        finishJob(j, obj.status.phase === 'Succeeded', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    };
    if (faults.jobStatusDelayMs > 0) setTimeout(finish, faults.jobStatusDelayMs).unref();
    else finish();
    if (p.deleting) pods.delete(`${ns}/${name}`);
  });
  log(`pod ${ns}/${name}: started pid ${proc.pid}: ${argv.join(' ')}`);
}

// The kubelet's active deadline: a running pod active for longer than
// spec.activeDeadlineSeconds (relative to status.startTime) is killed like
// a deletion kills it -- SIGTERM to the main process, SIGKILL to the whole
// container after spec.terminationGracePeriodSeconds -- but not deleted:
// it ends Failed, reason DeadlineExceeded, and its log stays.
function armDeadline(key, p) {
  const ads = p.obj.spec.activeDeadlineSeconds;
  if (typeof ads !== 'number' || !p.proc || p.exited || p.deadlineExceeded) return;
  if (p.deadlineTimer) clearTimeout(p.deadlineTimer);
  p.deadlineTimer = setTimeout(() => deadlineExceeded(key, p), Math.max(0, p.startMs + ads * 1000 - Date.now()));
  p.deadlineTimer.unref();
}

function deadlineExceeded(key, p) {
  if (!p.proc || p.exited || p.deadlineExceeded) return;
  p.deadlineExceeded = true;
  stats.podsDeadlineExceeded++;
  let grace = p.obj.spec.terminationGracePeriodSeconds;
  if (grace === undefined || grace === null) grace = 30;
  if (p.deleting) { log(`pod ${key}: active deadline exceeded while deleting`); return; }
  try { process.kill(p.pid, 'SIGTERM'); } catch (e) { /* gone */ }
  log(`pod ${key}: active deadline (${p.obj.spec.activeDeadlineSeconds} s) exceeded: SIGTERM sent, grace ${grace} s`);
  const deadline = Date.now() + grace * 1000;
  if (p.killAt === null || deadline < p.killAt) {
    p.killAt = deadline;
    if (p.killTimer) clearTimeout(p.killTimer);
    p.killTimer = setTimeout(() => { log(`pod ${key}: grace over: SIGKILL`); killGroup(p, 'SIGKILL'); }, grace * 1000);
  }
}

// A merge patch of a pod: the API server lets an update change only
// spec.containers[*].image, spec.initContainers[*].image,
// spec.activeDeadlineSeconds (set when unset to a positive number, or
// lowered; never below 1, never removed) and spec.tolerations (entries
// added only), plus labels and annotations; anything else is 422 "field is
// immutable". status is ignored on the main resource.
function validatePodUpdate(cur, next) {
  const errs = [];
  try { new Pod(next).validate(); } catch (e) {
    for (const x of e.errors || [{ instancePath: '', message: e.message }])
      errs.push(`${x.instancePath || '/'}: ${x.message}`);
  }
  const md = next.metadata || {};
  for (const f of ['name', 'namespace', 'uid', 'creationTimestamp', 'generateName', 'deletionTimestamp'])
    if (JSON.stringify(md[f]) !== JSON.stringify(cur.metadata[f]))
      errs.push(`metadata.${f}: Invalid value: ${JSON.stringify(md[f])}: field is immutable`);
  checkLabels('metadata', md.labels, errs);
  if (next.apiVersion !== 'v1' || next.kind !== 'Pod') errs.push('apiVersion/kind: field is immutable');
  const os = cur.spec, ns = next.spec || {};
  const oa = os.activeDeadlineSeconds, na = ns.activeDeadlineSeconds;
  if (na !== oa) {
    if (na === undefined) errs.push('spec.activeDeadlineSeconds: Invalid value: "null": must not update from a positive integer to nil value');
    else if (!Number.isInteger(na) || na < 1) errs.push(`spec.activeDeadlineSeconds: Invalid value: ${JSON.stringify(na)}: must be between 1 and 2147483647, inclusive`);
    else if (oa !== undefined && na > oa) errs.push(`spec.activeDeadlineSeconds: Invalid value: ${na}: must be less than or equal to previous value`);
  }
  const ot = os.tolerations || [], nt = ns.tolerations || [];
  if (nt.length < ot.length || ot.some((t, i) => JSON.stringify(t) !== JSON.stringify(nt[i])))
    errs.push('spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
  const strip = (s) => {
    const c = JSON.parse(JSON.stringify(s || {}));
    delete c.activeDeadlineSeconds; delete c.tolerations;
    for (const k of ['containers', 'initContainers']) for (const x of c[k] || []) delete x.image;
    return JSON.stringify(c);
  };
  if (strip(os) !== strip(ns))
    errs.push('spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,' +
      '`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)');
  return errs;
}

// Every process of a pod's "container": its process group, its
// descendants, and whatever carries its marker variable in its environment
// (a command that made its own process group and lost its parent still
// belongs to the container, as it would to a PID namespace).
function podProcesses(p) {
  const out = new Set();
  const marker = `MN_K8S_SIM_POD=${p.obj.metadata.uid}`;
  const parent = new Map();
  let entries = [];
  try { entries = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch (e) { return out; }
  for (const d of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z') continue;
      parent.set(Number(d), Number(f[1]));
      if (p.pid && Number(f[2]) === p.pid) out.add(Number(d)); // its process group
      const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8');
      if (env.split('\0').includes(marker)) out.add(Number(d));
    } catch (e) { /* gone meanwhile */ }
  }
  if (p.pid && parent.has(p.pid)) out.add(p.pid);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, pp] of parent) if (out.has(pp) && !out.has(pid)) { out.add(pid); grew = true; }
  }
  return out;
}

function killGroup(p, sig) {
  for (const pid of podProcesses(p)) {
    try { process.kill(pid, sig); } catch (e) { /* gone */ }
  }
}

// Graceful deletion: SIGTERM to the main process now, SIGKILL to the whole
// container once `grace` seconds passed; a later delete may shorten it.
function deletePod(key, p, grace) {
  if (grace === undefined || grace === null) grace = p.obj.spec.terminationGracePeriodSeconds;
  if (grace === undefined || grace === null) grace = 30;
  const deadline = Date.now() + grace * 1000;
  if (!p.proc || p.exited) { pods.delete(key); return; }
  if (!p.deleting) {
    p.deleting = true;
    p.obj.metadata.deletionTimestamp = new Date(deadline).toISOString().slice(0, 19) + 'Z';
    p.obj.metadata.deletionGracePeriodSeconds = grace;
    try { process.kill(p.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    log(`pod ${key}: deleting, SIGTERM sent, grace ${grace} s`);
  }
  if (p.killAt === null || deadline < p.killAt) {
    p.killAt = deadline;
    if (p.obj.metadata.deletionGracePeriodSeconds > grace) { // shortened, as the API server records it
      p.obj.metadata.deletionTimestamp = new Date(deadline).toISOString().slice(0, 19) + 'Z';
      p.obj.metadata.deletionGracePeriodSeconds = grace;
    }
    if (p.killTimer) clearTimeout(p.killTimer);
    p.killTimer = setTimeout(() => { log(`pod ${key}: grace over: SIGKILL`); killGroup(p, 'SIGKILL'); },
      Math.max(0, deadline - Date.now()));
  }
}

// ---------------------------------------------------------------------------
// HTTP plumbing

function status(res, code, reason, message, extraHeaders) {
  const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  res.writeHead(code, Object.assign({ 'Content-Type': 'application/json' }, extraHeaders || {}));
  res.end(JSON.stringify(body));
}
function reply(res, code, obj) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function authorised(req) {
  const h = req.headers.authorization || '';
  const m = /^Bearer (.+)$/.exec(h);
  if (m) {
    if (opt.tokens.includes(m[1])) return true;
    for (const f of opt.tokenFiles) {
      try { if (fs.readFileSync(f, 'utf8').trim() === m[1]) return true; } catch (e) { /* none */ }
    }
    return false;
  }
  if (req.socket.authorized && req.socket.getPeerCertificate) return true; // a client certificate
  return opt.http && !opt.tokens.length && !opt.tokenFiles.length;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function addFault(f) {
  switch (f.kind) {
    case 'conflict_next_create': faults.conflictNextCreate += f.count || 1; break;
    case 'status': // the next `count` API calls (optionally of one verb) answer `code`
      faults.statuses.push({ code: f.code, count: f.count || 1, retryAfter: f.retry_after, verb: f.verb });
      break;
    case 'create_delay': faults.createDelayMs = f.ms || 0; break;
    case 'job_status_delay': // {ms}: the Job controller marks a Job finished ms after its pod ended
      faults.jobStatusDelayMs = f.ms || 0; break;
    case 'pending': if (f.image) faults.pendingImages.add(f.image); else faults.pendingAll = !!f.on; break;
    case 'image_pull': faults.pullFailImages.add(f.image); break;
    case 'oom': faults.oomImages.add(f.image); break;
    case 'lose_answer': // {verb, resource, count}: carried out, answered 504
      faults.lostAnswers.push({ verb: f.verb || 'create', resource: f.resource || 'jobs', count: f.count || 1 });
      break;
    case 'hold_pods': // {on}: new pods stay ContainerCreating until turned off
      faults.holdPods = !!f.on;
      if (!faults.holdPods)
        for (const [pk, p] of pods) if (p.held) { p.held = false; runContainer(pk, p); }
      break;
    case 'clear':
      faults.conflictNextCreate = 0; faults.statuses = []; faults.createDelayMs = 0; faults.jobStatusDelayMs = 0;
      faults.pendingImages.clear(); faults.pullFailImages.clear(); faults.oomImages.clear();
      faults.pendingAll = false; faults.lostAnswers = [];
      if (faults.holdPods) addFault({ kind: 'hold_pods', on: false });
      break;
    default: return false;
  }
  return true;
}

async function handleControl(req, res, url) {
  const path = url.pathname;
  if (path === '/_sim/stats' && req.method === 'GET') {
    const running = [...pods.values()].filter((p) => p.proc && !p.exited).length;
    return reply(res, 200, Object.assign({ jobs: jobs.size, pods: pods.size, secrets: secrets.size,
      runningProcesses: running }, stats));
  }
  if (path === '/_sim/reset' && req.method === 'POST') {
    stats.requests = {};
    stats.apiConnections = 0;
    return reply(res, 200, {});
  }
  let body = {};
  if (req.method === 'POST') {
    try { body = JSON.parse((await readBody(req)) || '{}'); } catch (e) { return status(res, 400, 'BadRequest', 'bad JSON'); }
  }
  if (path === '/_sim/fault' && req.method === 'POST') {
    return addFault(body) ? reply(res, 200, {}) : status(res, 400, 'BadRequest', `unknown fault ${body.kind}`);
  }
  if (path === '/_sim/kill' && req.method === 'POST') {
    const match = parseSelector(body.selector);
    let n = 0;
    for (const p of pods.values()) {
      if (match(p.obj.metadata.labels) && p.proc && !p.exited) { killGroup(p, 'SIGKILL'); n++; }
    }
    return reply(res, 200, { killed: n });
  }
  if (path === '/_sim/objects' && req.method === 'GET') {
    return reply(res, 200, {
      jobs: everyJob.map((j) => ({ obj: j, deleted: jobs.get(`${j.metadata.namespace}/${j.metadata.name}`) !== j })),
      pods: everyPod.map((p) => ({ obj: p.obj, deleted: !pods.has(`${p.obj.metadata.namespace}/${p.obj.metadata.name}`),
        patches: p.patches || [] })),
      secrets: everySecret });
  }
  if (path === '/_sim/pods' && req.method === 'GET') {
    const match = parseSelector(url.searchParams.get('selector'));
    const out = [];
    for (const p of everyPod) {
      if (!match(p.obj.metadata.labels)) continue;
      const procs = [...podProcesses(p)];
      out.push({ name: p.obj.metadata.name, pid: p.pid, exited: p.exited, groupAlive: procs.length > 0,
        processes: procs, deleted: !pods.has(`${p.obj.metadata.namespace}/${p.obj.metadata.name}`),
        phase: p.obj.status.phase });
    }
    return reply(res, 200, { pods: out });
  }
  return status(res, 404, 'NotFound', `no control endpoint ${path}`);
}

function listOf(kind, items, url) {
  const limit = Number(url.searchParams.get('limit') || 0);
  const start = Number(url.searchParams.get('continue') || 0);
  let page = items.slice(start);
  let cont;
  if (limit > 0 && page.length > limit) { page = page.slice(0, limit); cont = String(start + limit); }
  return { kind, apiVersion: kind === 'JobList' ? 'batch/v1' : 'v1',
    metadata: Object.assign({ resourceVersion: String(resourceVersion) }, cont ? { continue: cont } : {}), items: page };
}

async function handleApi(req, res, url) {
  const p = url.pathname;
  let m;
  let verb, resource;
  if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(p))) {
    resource = 'jobs';
    verb = { GET: m[2] ? 'get' : 'list', POST: 'create', DELETE: m[2] ? 'delete' : 'deletecollection' }[req.method];
  } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(p))) {
    resource = 'secrets';
    verb = m[2] ? { GET: 'get', PATCH: 'patch', DELETE: 'delete' }[req.method]
      : { GET: 'list', POST: 'create' }[req.method];
  } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/log)?$/.exec(p))) {
    resource = m[3] ? 'pods/log' : 'pods';
    verb = { GET: m[3] ? 'get' : m[2] ? 'get' : 'list', DELETE: m[2] ? 'delete' : 'deletecollection',
      PATCH: m[2] && !m[3] ? 'patch' : undefined }[req.method];
  } else {
    count(`${req.method} ${p}`);
    return status(res, 404, 'NotFound', `the server could not find the requested resource (${req.method} ${p})`);
  }
  if (!verb) return status(res, 405, 'MethodNotAllowed', `${req.method} is not allowed on ${resource}`);
  count(`${verb} ${resource}`);
  if (!authorised(req)) {
    stats.authFailures++;
    return status(res, 401, 'Unauthorized', 'Unauthorized');
  }
  if (!rbacAllows(resource === 'jobs' ? 'batch' : '', resource, verb)) {
    stats.forbidden = (stats.forbidden || 0) + 1;
    return status(res, 403, 'Forbidden', `${resource} is forbidden: User "system:serviceaccount:multinode:multinode" cannot ${verb} resource "${resource}"`);
  }
  const injected = faults.statuses.find((f) => f.count > 0 && (!f.verb || f.verb === verb));
  if (injected) {
    injected.count--;
    const [reason, message] = injected.code === 429
      ? ['TooManyRequests', 'the server has received too many requests and has asked us to try again later']
      : injected.code === 422
        ? ['Invalid', 'Job.batch "injected" is invalid: spec.template.spec.containers[0].image: Required value']
        : ['InternalError', 'an error on the server ("injected") has prevented the request from succeeding'];
    return status(res, injected.code, reason, message,
      injected.retryAfter !== undefined ? { 'Retry-After': String(injected.retryAfter) } : {});
  }
  const ns = m[1], name = m[2];
  const text = await readBody(req);
  let body;
  if (text) {
    try { body = JSON.parse(text); } catch (e) { return status(res, 400, 'BadRequest', `invalid JSON: ${e.message}`); }
  }
  const selector = parseSelector(url.searchParams.get('labelSelector'));

  if (resource === 'jobs') {
    if (verb === 'create') {
      const errs = validateJob(body);
      const jname = body && body.metadata && body.metadata.name;
      if (errs.length) {
        violation(`create job ${jname}`, errs);
        return status(res, 422, 'Invalid', `Job.batch "${jname}" is invalid: ${errs.join(', ')}`);
      }
      if (body.metadata.namespace && body.metadata.namespace !== ns)
        return status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      const key = `${ns}/${jname}`;
      if (faults.conflictNextCreate > 0 || jobs.has(key)) {
        if (faults.conflictNextCreate > 0 && !jobs.has(key)) faults.conflictNextCreate--;
        else if (faults.conflictNextCreate > 0) faults.conflictNextCreate--;
        if (jobs.has(key))
          return status(res, 409, 'AlreadyExists', `jobs.batch "${jname}" already exists`);
        return status(res, 409, 'AlreadyExists', `jobs.batch "${jname}" already exists`);
      }
      const job = JSON.parse(JSON.stringify(body));
      job.metadata.namespace = ns;
      job.metadata.uid = crypto.randomUUID();
      job.metadata.creationTimestamp = nowSec();
      job.metadata.resourceVersion = String(++resourceVersion);
      job.metadata.generation = 1;
      job.spec.completions = job.spec.completions || 1;
      job.spec.parallelism = job.spec.parallelism || 1;
      job.status = { active: 0, conditions: [] };
      jobs.set(key, job);
      everyJob.push(job);
      stats.jobsCreated++;
      log(`job ${key}: created`);
      startPod(job);
      const answer = () => reply(res, 201, job);
      if (faults.createDelayMs > 0) return setTimeout(answer, faults.createDelayMs);
      return answer();
    }
    if (verb === 'list') {
      const items = [...jobs.values()].filter((j) => j.metadata.namespace === ns && selector(j.metadata.labels));
      return reply(res, 200, listOf('JobList', items, url));
    }
    if (verb === 'get') {
      const j = jobs.get(`${ns}/${name}`);
      return j ? reply(res, 200, j) : status(res, 404, 'NotFound', `jobs.batch "${name}" not found`);
    }
    if (verb === 'delete') {
      const errs = validateDeleteOptions(body);
      if (errs.length) {
        violation(`delete job ${name}`, errs);
        return status(res, 422, 'Invalid', `DeleteOptions is invalid: ${errs.join(', ')}`);
      }
      const key = `${ns}/${name}`;
      const j = jobs.get(key);
      if (!j) return status(res, 404, 'NotFound', `jobs.batch "${name}" not found`);
      // batch/v1 Jobs default to orphaning their pods when no policy is given
      const policy = (body && body.propagationPolicy) || url.searchParams.get('propagationPolicy') || 'Orphan';
      jobs.delete(key);
      log(`job ${key}: deleted (propagationPolicy ${policy})`);
      if (policy !== 'Orphan')
        for (const [pk, pod] of pods) if (pod.jobKey === key) deletePod(pk, pod);
      collectDependents(ns, j.metadata.uid, policy);
      return reply(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
        details: { name, group: 'batch', kind: 'jobs', uid: j.metadata.uid } });
    }
    return status(res, 405, 'MethodNotAllowed', `${verb} jobs is not supported here`);
  }

  if (resource === 'secrets') return handleSecrets(req, res, url, verb, ns, name, body, selector);

  // pods
  if (resource === 'pods/log') {
    const pod = pods.get(`${ns}/${name}`);
    if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`);
    const cs = pod.obj.status.containerStatuses && pod.obj.status.containerStatuses[0];
    if (!pod.proc) {
      const why = cs && cs.state.waiting ? cs.state.waiting.reason : 'Pending';
      return status(res, 400, 'BadRequest', `container "main" in pod "${name}" is waiting to start: ${why}`);
    }
    const c = url.searchParams.get('container');
    if (c && c !== 'main') return status(res, 400, 'BadRequest', `container ${c} is not valid for pod ${name}`);
    const ts = url.searchParams.get('timestamps') === 'true';
    const since = url.searchParams.get('sinceTime');
    let lines = pod.lines;
    if (since) {
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(since))
        return status(res, 400, 'BadRequest', `invalid sinceTime "${since}"`);
      const sinceMs = Date.parse(since);
      lines = lines.filter((l) => Date.parse(l.slice(0, l.indexOf(' '))) >= Math.floor(sinceMs / 1000) * 1000);
    }
    const out = lines.map((l) => (ts ? l : l.slice(l.indexOf(' ') + 1))).join('\n');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end(out ? out + '\n' : '');
  }
  if (verb === 'list') {
    const items = [...pods.values()].map((x) => x.obj).filter((o) => o.metadata.namespace === ns && selector(o.metadata.labels));
    return reply(res, 200, listOf('PodList', items, url));
  }
  if (verb === 'get') {
    const pod = pods.get(`${ns}/${name}`);
    return pod ? reply(res, 200, pod.obj) : status(res, 404, 'NotFound', `pods "${name}" not found`);
  }
  if (verb === 'patch') {
    const ct = (req.headers['content-type'] || '').split(';')[0].trim();
    if (ct !== 'application/merge-patch+json')
      return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (this simulator), not "${ct}"`);
    const key = `${ns}/${name}`;
    const pod = pods.get(key);
    if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`);
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return status(res, 400, 'BadRequest', 'the patch is not a JSON object');
    const cur = pod.obj;
    const next = mergePatch(JSON.parse(JSON.stringify(cur)), body);
    next.status = cur.status; // the main resource ignores status
    const errs = validatePodUpdate(cur, next);
    if (errs.length) {
      violation(`patch pod ${name}`, errs);
      return status(res, 422, 'Invalid', `Pod "${name}" is invalid: ${errs.join(', ')}`);
    }
    next.metadata.resourceVersion = String(++resourceVersion);
    pod.obj.metadata = next.metadata;
    pod.obj.spec = next.spec;
    pod.patches = (pod.patches || []).concat([body]);
    stats.podsPatched++;
    log(`pod ${key}: patched ${JSON.stringify(body)}`);
    armDeadline(key, pod);
    return reply(res, 200, pod.obj);
  }
  if (verb === 'delete' || verb === 'deletecollection') {
    const errs = validateDeleteOptions(body);
    if (errs.length) {
      violation(`${verb} pods`, errs);
      return status(res, 422, 'Invalid', `DeleteOptions is invalid: ${errs.join(', ')}`);
    }
    const q = url.searchParams.get('gracePeriodSeconds');
    let grace = body && body.gracePeriodSeconds !== undefined ? body.gracePeriodSeconds : q !== null ? Number(q) : undefined;
    const victims = [];
    for (const [pk, pod] of pods) {
      if (pod.obj.metadata.namespace !== ns) continue;
      if (verb === 'delete' ? pod.obj.metadata.name === name : selector(pod.obj.metadata.labels)) victims.push([pk, pod]);
    }
    if (verb === 'delete' && !victims.length) return status(res, 404, 'NotFound', `pods "${name}" not found`);
    for (const [pk, pod] of victims) deletePod(pk, pod, grace);
    return reply(res, 200, verb === 'delete' ? victims[0][1].obj : listOf('PodList', victims.map((v) => v[1].obj), url));
  }
  return status(res, 405, 'MethodNotAllowed', `${verb} pods is not supported here`);
}

function handleSecrets(req, res, url, verb, ns, name, body, selector) {
  const key = `${ns}/${name}`;
  if (verb === 'create') {
    const sec = foldStringData(JSON.parse(JSON.stringify(body || null)));
    const sname = sec && sec.metadata && sec.metadata.name;
    const errs = validateSecret(sec);
    if (errs.length) {
      violation(`create secret ${sname}`, errs);
      return status(res, 422, 'Invalid', `Secret "${sname}" is invalid: ${errs.join(', ')}`);
    }
    if (sec.metadata.namespace && sec.metadata.namespace !== ns)
      return status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    const skey = `${ns}/${sname}`;
    if (secrets.has(skey)) return status(res, 409, 'AlreadyExists', `secrets "${sname}" already exists`);
    Object.assign(sec.metadata, { namespace: ns, uid: crypto.randomUUID(), creationTimestamp: nowSec(),
      resourceVersion: String(++resourceVersion) });
    sec.type = sec.type || 'Opaque';
    storeSecret(skey, sec);
    stats.secretsCreated++;
    log(`secret ${skey}: created (keys ${Object.keys(sec.data || {}).join(', ')}; owners ` +
      `${(sec.metadata.ownerReferences || []).map((o) => `${o.kind}/${o.name}/${o.uid}`).join(', ') || 'none'})`);
    collectIfOrphaned(skey);
    secretWritten(skey);
    if (answerLost('create', 'secrets'))
      return status(res, 504, 'Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request');
    return reply(res, 201, sec);
  }
  if (verb === 'list') {
    const items = [...secrets.values()].filter((x) => x.metadata.namespace === ns && selector(x.metadata.labels));
    return reply(res, 200, listOf('SecretList', items, url));
  }
  const cur = secrets.get(key);
  if (verb === 'get')
    return cur ? reply(res, 200, cur) : status(res, 404, 'NotFound', `secrets "${name}" not found`);
  if (verb === 'patch') {
    const ct = (req.headers['content-type'] || '').split(';')[0].trim();
    if (ct !== 'application/merge-patch+json')
      return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (this simulator), not "${ct}"`);
    if (!cur) return status(res, 404, 'NotFound', `secrets "${name}" not found`);
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return status(res, 400, 'BadRequest', 'the patch is not a JSON object');
    const next = foldStringData(mergePatch(JSON.parse(JSON.stringify(cur)), body));
    const md = next.metadata || {};
    const errs = validateSecret(next);
    for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'])
      if (md[f] !== cur.metadata[f]) errs.push(`metadata.${f}: Invalid value: "${md[f]}": field is immutable`);
    if (next.type !== cur.type) errs.push(`type: Invalid value: "${next.type}": field is immutable`);
    if (errs.length) {
      violation(`patch secret ${name}`, errs);
      return status(res, 422, 'Invalid', `Secret "${name}" is invalid: ${errs.join(', ')}`);
    }
    md.resourceVersion = String(++resourceVersion);
    storeSecret(key, next);
    log(`secret ${key}: patched`);
    collectIfOrphaned(key);
    secretWritten(key);
    return reply(res, 200, next);
  }
  if (verb === 'delete') {
    const errs = validateDeleteOptions(body);
    if (errs.length) {
      violation(`delete secret ${name}`, errs);
      return status(res, 422, 'Invalid', `DeleteOptions is invalid: ${errs.join(', ')}`);
    }
    if (!cur) return status(res, 404, 'NotFound', `secrets "${name}" not found`);
    dropSecret(key, 'by request');
    stats.secretsDeleted++;
    return reply(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
      details: { name, kind: 'secrets', uid: cur.metadata.uid } });
  }
  return status(res, 405, 'MethodNotAllowed', `${verb} secrets is not supported here`);
}

async function handler(req, res) {
  const url = new URL(req.url, 'http://sim');
  try {
    if (url.pathname.startsWith('/_sim/')) return await handleControl(req, res, url);
    if (!req.socket.mnApi) { // a connection (on https: a TLS handshake) of an API client
      req.socket.mnApi = true;
      stats.apiConnections++;
    }
    return await handleApi(req, res, url);
  } catch (e) {
    log(`internal error: ${e.stack}`);
    if (!res.headersSent) status(res, 500, 'InternalError', String(e));
  }
}

const server = opt.http
  ? http.createServer(handler)
  : https.createServer({ cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key),
    ca: opt.clientCa ? fs.readFileSync(opt.clientCa) : undefined, requestCert: !!opt.clientCa,
    rejectUnauthorized: false }, handler);
server.keepAliveTimeout = 5000;
server.listen(opt.port, opt.host, () => {
  const port = server.address().port;
  log(`k8s simulator listening on ${opt.http ? 'http' : 'https'}://${opt.host}:${port}`);
  if (opt.portFile) {
    fs.writeFileSync(`${opt.portFile}.tmp`, `${port}\n`);
    fs.renameSync(`${opt.portFile}.tmp`, opt.portFile);
  }
});

function shutdown() {
  for (const p of pods.values()) killGroup(p, 'SIGKILL');
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
