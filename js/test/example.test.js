// examples/js/server.js against a real daemon: the three endpoints of the
// original's FastAPI example, for project my_project and its function
// run_expensive_task (the Python example project when the Python package is
// there, else the same task as a Node command).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { SOURCE_DIR, pythonTasksAvailable, startDaemon, waitUntil } from './daemon.js';

/** The example task as a Node command: sum of i*i for i < x, x from the jsonpickle input. */
const NODE_TASK = `
let s = '';
process.stdin.on('data', (d) => (s += d)).on('end', () => {
  const x = BigInt(JSON.parse(s)[0]['py/tuple'][0]);
  let out = 0n;
  for (let i = 0n; i < x; i++) out += i * i;
  process.stdout.write(String(out));
});`;

/** @type {import('./daemon.js').Daemon} */
let d;
/** @type {import('node:child_process').ChildProcess | undefined} */
let server;
let base = '';
let serverLog = '';

before(async () => {
  d = await startDaemon();
  if (pythonTasksAvailable()) {
    const deploy = d.cli('deploy', join(SOURCE_DIR, 'examples', 'python', 'tasks'), '--project-name', 'my_project');
    assert.equal(deploy.status, 0, `${deploy.stdout}\n${deploy.stderr}\n${d.tail()}`);
  } else {
    await d.deployCommands('my_project', [
      { name: 'run_expensive_task', command: [process.execPath, '-e', NODE_TASK], maxRetries: 1 },
    ]);
  }
  server = spawn(process.execPath, [join(SOURCE_DIR, 'examples', 'js', 'server.js')], {
    env: { ...d.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.setEncoding('utf8').on('data', (t) => (serverLog += t));
  server.stderr?.setEncoding('utf8').on('data', (t) => (serverLog += t));
  const m = await waitUntil('the example server to listen', () => serverLog.match(/listening on (http:\/\/\S+)/), 30_000)
    .catch((e) => { throw new Error(`${e.message}\n${serverLog}`); });
  base = m[1];
});

after(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  await d?.stop();
});

/**
 * @param {string} method
 * @param {string} path
 * @returns {Promise<{ status: number, body: any }>}
 */
async function call(method, path) {
  const res = await fetch(base + path, { method });
  return { status: res.status, body: await res.json() };
}

test('POST /tasks?x=N starts a task; GET /tasks/{id} shows its status and result', async () => {
  const started = await call('POST', '/tasks?x=1000');
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const id = started.body.invocation_id;
  assert.match(id, /^inv-[0-9a-f]{32}$/);
  const done = await waitUntil('the task to succeed', async () => {
    const r = await call('GET', `/tasks/${id}`);
    assert.equal(r.status, 200);
    assert.ok(['PENDING', 'RUNNING', 'SUCCEEDED'].includes(r.body.status), JSON.stringify(r.body));
    return r.body.status === 'SUCCEEDED' && r.body;
  });
  assert.deepEqual(done, { status: 'SUCCEEDED', result: 332833500, error: null });
});

test('PUT /tasks/{id}/cancel cancels a task', async () => {
  const started = await call('POST', '/tasks?x=10000000000');
  const id = started.body.invocation_id;
  const cancelled = await call('PUT', `/tasks/${id}/cancel`);
  assert.deepEqual(cancelled, { status: 200, body: { invocation_id: id } });
  const final = await waitUntil('the task to be cancelled', async () => {
    const r = await call('GET', `/tasks/${id}`);
    return r.body.status === 'CANCELLED' && r.body;
  });
  assert.equal(final.status, 'CANCELLED');
  // cancelling again once the daemon has ended it (CANCELLED can show first): 409
  await waitUntil('the invocation to terminate', async () => {
    const info = await d.client.getInvocation('my_project', 'latest', 'run_expensive_task', id);
    return info.invocation_status === 'TERMINATED';
  });
  const again = await call('PUT', `/tasks/${id}/cancel`);
  assert.equal(again.status, 409);
  assert.equal(again.body.detail, 'This invocation has already terminated');
});

test('unknown tasks, bad input and unknown routes', async () => {
  assert.deepEqual(await call('GET', `/tasks/inv-${'0'.repeat(32)}`), { status: 404, body: { detail: 'no such task' } });
  assert.equal((await call('POST', '/tasks?x=ten')).status, 422);
  assert.equal((await call('POST', '/tasks')).status, 422);
  assert.equal((await call('GET', '/nowhere')).status, 404);
});
