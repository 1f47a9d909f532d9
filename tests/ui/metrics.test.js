// GET /metrics (docs/observability.md) on a real daemon (embedded Postgres,
// local provider): who may read it, `promtool check metrics` on what it
// serves after a run, and counters that agree with what the test did
// (invocations created and ended by derived status, HTTP requests per
// route template, attempts started and finished, provider launches), and
// the queue gauges of a function held at max_concurrency 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';

import { KEY, startDaemon, waitUntil } from '../../js/test/daemon.js';

const P = 'metrics-p';
const READER = 'reader-key-0123456789';
const LIMITED = 'limited-key-0123456789';
const sha = (/** @type {string} */ s) => createHash('sha256').update(s).digest('hex');

/** @type {import('../../js/test/daemon.js').Daemon} */
let d;
/** the GETs of one invocation this test made (counted by route template) */
let invocationGets = 0;

before(async () => {
  d = await startDaemon({
    serverYaml: `  api_keys:\n    - name: reader\n      sha256: ${sha(READER)}\n      role: reader\n`
      + `    - name: limited\n      sha256: ${sha(LIMITED)}\n      role: reader\n      projects: [${P}]\n`,
  });
});

after(async () => {
  await d?.stop();
});

/** @param {string} path @param {{ method?: string, key?: string | null, body?: unknown }} [o] */
async function call(path, o = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (o.key !== null) headers.Authorization = `Bearer ${o.key ?? KEY}`;
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${d.url}${path}`, {
    method: o.method ?? 'GET',
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/**
 * The value of one sample of the exposition, 0 when absent.
 * @param {string} text @param {string} name @param {Record<string, string>} labels
 */
function sample(text, name, labels) {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf('}');
    const body = close > 0 ? line.slice(name.length + 1, close) : '';
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) {
      total += Number(line.slice(close > 0 ? close + 1 : name.length).trim());
      found = true;
    }
  }
  return found ? total : 0;
}

test('counters agree with the run, and promtool finds no problem', async () => {
  const version = await d.deployCommands(P, [
    { name: 'ok', command: ['sh', '-c', 'echo fine'] },
    { name: 'bad', command: ['sh', '-c', 'exit 3'], maxRetries: 1 },
  ]);
  const base = (/** @type {string} */ f) => `/projects/${P}/versions/${version}/functions/${f}/invocations`;
  /** @type {Record<string, string[]>} */
  const ids = { ok: [], bad: [], hold: [] };
  for (const [f, n] of /** @type {const} */ ([['ok', 4], ['bad', 2]])) {
    for (let i = 0; i < n; i++) {
      const r = await call(base(f), { method: 'POST', body: { input: 'x' } });
      assert.equal(r.status, 200, r.text);
      ids[f].push(JSON.parse(r.text).invocation_id);
    }
  }
  const ended = async (/** @type {string} */ f, /** @type {string} */ id) => {
    invocationGets++;
    const r = await call(`${base(f)}/${id}`);
    return JSON.parse(r.text).invocation_status === 'TERMINATED';
  };
  for (const f of ['ok', 'bad']) {
    for (const id of ids[f]) await waitUntil(`${f} ${id} to end`, () => ended(f, id), 60_000);
  }

  // who may read it
  assert.equal((await call('/metrics', { key: null })).status, 403);
  assert.equal((await call('/metrics', { key: 'not-a-key-0123456789' })).status, 403);
  const limited = await call('/metrics', { key: LIMITED });
  assert.equal(limited.status, 403, 'a key limited to projects cannot see every project');
  assert.equal((await call('/metrics', { method: 'POST', key: READER })).status, 405);
  const first = await call('/metrics', { key: READER });
  assert.equal(first.status, 200, first.text);
  assert.match(first.type, /^text\/plain; version=0\.0\.4/);

  // the queue gauges: max_concurrency 1 (SMALL has 10), so use a version of its own
  const hv = await d.client.createVersion(P, {
    default_docker_image: 'unused',
    functions: [{
      function_name: 'hold', command: ['sleep', '60'],
      resource_spec: { virtual_cpus: 0.1, memory_gbs: 0.25, max_concurrency: 1 },
      execution_spec: { max_retries: 0, timeout_seconds: 120 },
    }],
  });
  const holdBase = `/projects/${P}/versions/${hv.version_id}/functions/hold/invocations`;
  for (let i = 0; i < 3; i++) {
    const r = await call(holdBase, { method: 'POST', body: { input: 'x' } });
    ids.hold.push(JSON.parse(r.text).invocation_id);
  }
  const gauges = { project: P, version: hv.version_id, function: 'hold' };
  const held = await waitUntil('one hold running and two queued', async () => {
    const m = await call('/metrics', { key: READER });
    return sample(m.text, 'multinode_invocations_running', gauges) === 1
      && sample(m.text, 'multinode_invocations_queued', gauges) === 2 && m.text;
  }, 30_000);
  assert.ok(held);
  for (const id of ids.hold) {
    const r = await call(`${holdBase}/${id}/cancel`, { method: 'PUT' });
    assert.equal(r.status, 200, r.text);
  }
  for (const id of ids.hold) {
    await waitUntil(`hold ${id} to end`, async () => {
      invocationGets++;
      const r = await call(`${holdBase}/${id}`);
      return JSON.parse(r.text).invocation_status === 'TERMINATED';
    }, 60_000);
  }
  // the cached queue counts (2 s) catch up: nothing queued or running
  await waitUntil('the hold queue to empty', async () => {
    const m = await call('/metrics', { key: READER });
    return !m.text.includes(`multinode_invocations_queued{project="${P}",version="${hv.version_id}"`);
  }, 10_000);

  const m = await call('/metrics', { key: READER });
  const check = spawnSync('promtool', ['check', 'metrics'], { input: m.text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  assert.equal(`${check.stdout}${check.stderr}`.trim(), '', 'promtool reports nothing');

  const t = m.text;
  const fn = (/** @type {string} */ f) => ({ project: P, function: f });
  assert.equal(sample(t, 'multinode_invocations_created_total', fn('ok')), 4);
  assert.equal(sample(t, 'multinode_invocations_created_total', fn('bad')), 2);
  assert.equal(sample(t, 'multinode_invocations_created_total', fn('hold')), 3);
  assert.equal(sample(t, 'multinode_invocations_ended_total', { ...fn('ok'), status: 'SUCCEEDED' }), 4);
  assert.equal(sample(t, 'multinode_invocations_ended_total', { ...fn('bad'), status: 'FAILED' }), 2);
  assert.equal(sample(t, 'multinode_invocations_ended_total', { ...fn('hold'), status: 'CANCELLED' }), 3);
  assert.equal(sample(t, 'multinode_invocations_ended_total', fn('ok')), 4, 'no other status for ok');
  // every attempt: 4 ok, 2 x 2 bad (one retry each), the one hold that ran
  const invRoute = '/projects/{project_name}/versions/{version_ref}/functions/{function_name}/invocations';
  const exeRoute = `${invRoute}/{invocation_id}/executions/{execution_id}`;
  assert.equal(sample(t, 'multinode_http_requests_total', { route: `${exeRoute}/start`, code: '200' }), 9);
  assert.equal(sample(t, 'multinode_dispatch_latency_seconds_count', {}), 9);
  assert.equal(sample(t, 'multinode_attempt_duration_seconds_count', {}),
    sample(t, 'multinode_http_requests_total', { route: `${exeRoute}/finish`, code: '200' }));
  assert.ok(sample(t, 'multinode_attempt_duration_seconds_count', {}) >= 8, 'ok and bad attempts finished');
  assert.equal(sample(t, 'multinode_provider_calls_total', { provider: 'local', operation: 'launch' }), 9);
  assert.equal(sample(t, 'multinode_provider_errors_total', { provider: 'local', operation: 'launch' }), 0);
  assert.ok(sample(t, 'multinode_scheduler_pass_duration_seconds_count', {}) > 0);
  // HTTP: what this test sent, by route template (no ids in any label)
  assert.equal(sample(t, 'multinode_http_requests_total', { method: 'POST', route: invRoute, code: '200' }), 9);
  assert.equal(sample(t, 'multinode_http_requests_total', { method: 'GET', route: `${invRoute}/{invocation_id}`, code: '200' }), invocationGets);
  assert.equal(sample(t, 'multinode_http_requests_total', { method: 'PUT', route: `${invRoute}/{invocation_id}/cancel`, code: '200' }), 3);
  assert.equal(sample(t, 'multinode_http_requests_total', { route: '/metrics', code: '403' }), 3);
  assert.equal(sample(t, 'multinode_http_requests_total', { route: '/metrics', code: '405' }), 0, 'not GET: not a route');
  assert.equal(sample(t, 'multinode_http_requests_total', { method: 'any', route: 'other', code: '405' }), 1);
  assert.equal(sample(t, 'multinode_http_request_duration_seconds_count', { method: 'POST', route: invRoute }), 9);
  assert.doesNotMatch(t, /inv-[0-9a-f]{8}|exe-[0-9a-f]{8}/, 'no invocation or execution id in a label');
  assert.match(t, /^multinode_store_pool_connections\{state="in_use"\} \d+$/m);
  assert.match(t, /^multinode_store_pool_waits_total \d+$/m);
});
