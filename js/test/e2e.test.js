// The client against a real daemon (embedded Postgres, local provider):
// start/get/cancel/list/awaitResult, raw mode, the server's errors as typed
// errors, AbortSignal, configuration written by `multinode login`, and a
// Python task started from Node when the Python package is there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as mn from '../src/index.js';
import { BIN_DIR, JS_DIR, pythonTasksAvailable, startDaemon, waitUntil } from './daemon.js';

const {
  ApiKeyIsInvalid,
  AwaitResultTimeoutError,
  ExecutionDoesNotExist,
  ExecutionHasAlreadyFinished,
  ExecutionHasAlreadyStarted,
  FunctionDoesNotExist,
  FunctionInputSizeLimitExceeded,
  InvalidUseError,
  InvocationCancelledError,
  InvocationDoesNotExist,
  InvocationFailedError,
  InvocationIsAlreadyTerminated,
  InvocationTimedOutError,
  MultinodeApiError,
  MultinodeClient,
  OffsetIsInvalid,
  ParentFunctionNameIsMissing,
  ParentInvocationDoesNotExist,
  ParentInvocationIdIsMissing,
  ProjectAlreadyExists,
  ProjectDoesNotExist,
  ProjectIsBeingDeleted,
  ProjectNameIsTooLong,
  VersionDoesNotExist,
  getDeployedFunction,
} = mn;

const P = 'jsp';
const NO_SUCH_INV = `inv-${'0'.repeat(32)}`;

/** @type {import('./daemon.js').Daemon} */
let d;
/** @type {mn.MultinodeClient} */
let client;
/** @type {string} */
let v1;

/** @param {string} functionName @param {Partial<mn.GetDeployedFunctionOptions>} [extra] */
const fn = (functionName, extra = {}) => client.getDeployedFunction({ projectName: P, functionName, ...extra });

/**
 * @param {mn.DeployedFunction} f
 * @param {string} id
 * @param {(i: mn.Invocation) => boolean} pred
 */
const waitFor = (f, id, pred) => waitUntil(`invocation ${id}`, async () => {
  const i = await f.get(id);
  return pred(i) && i;
});

before(async () => {
  d = await startDaemon();
  client = d.client;
  v1 = await d.deployCommands(P, [
    { name: 'echo', command: ['cat'] },
    { name: 'upper', command: ['tr', 'a-z', 'A-Z'] },
    { name: 'answer', command: ['sh', '-c', 'echo 42'] },
    { name: 'fail', command: ['sh', '-c', 'echo boom >&2; exit 3'], maxRetries: 1 },
    { name: 'slow', command: ['sh', '-c', 'multinode progress 7; exec sleep 30'] },
    { name: 'late', command: ['sleep', '30'], timeoutSeconds: 1 },
    { name: 'lister', command: ['true'] },
    {
      name: 'beat',
      command: [process.execPath, '--input-type=module', '-e',
        `import { heartbeat } from ${JSON.stringify(join(JS_DIR, 'src', 'index.js'))}; await heartbeat(); process.stdout.write('"alive"');`],
    },
  ]);
});

after(async () => {
  await d?.stop();
});

describe('invocation API', () => {
  test('getDeployedFunction pins the version latest resolved to', async () => {
    const echo = await fn('echo');
    assert.equal(echo.versionId, v1);
    assert.match(v1, /^ver-[0-9a-f]{32}$/);
    assert.equal(echo.projectName, P);
    assert.equal(echo.info.execution_spec.timeout_seconds, 60);
    const byId = await fn('echo', { versionId: v1 });
    assert.equal(byId.versionId, v1);
  });

  test('start + awaitResult: arguments arrive as jsonpickle [args, kwargs], the output is decoded', async () => {
    const echo = await fn('echo');
    const id = await echo.start(1, 'two', { three: [3] });
    assert.match(id, /^inv-[0-9a-f]{32}$/);
    // `cat` returns the input: py/tuple comes back as an array
    assert.deepEqual(await echo.awaitResult(id), [[1, 'two', { three: [3] }], {}]);
    const inv = await echo.get(id);
    assert.equal(inv.status, 'SUCCEEDED');
    assert.equal(inv.invocationId, id);
    assert.equal(inv.finished, true);
    assert.equal(inv.error, null);
    assert.equal(inv.numFailedAttempts, 0);
    assert.equal(inv.info.input, '[{"py/tuple":[1,"two",{"three":[3]}]},{}]');
    const kw = await echo.startWith({ args: [5], kwargs: { scale: 2 } });
    assert.deepEqual(await echo.awaitResult(kw), [[5], { scale: 2 }]);
    assert.equal(await (await fn('answer')).callRemote(), 42);
  });

  test('raw mode: the input string and the output string unchanged', async () => {
    const upper = await fn('upper', { raw: true });
    assert.equal(await upper.callRemote('hello {"json": 1}'), 'HELLO {"JSON": 1}');
    const id = await upper.start('[1, 2]');
    await upper.awaitResult(id);
    assert.equal((await upper.get(id)).result, '[1, 2]');
    // per call, on a function that is not raw
    const plain = await fn('upper');
    assert.deepEqual((await plain.get(id)).result, [1, 2]);
    assert.equal((await plain.get(id, { raw: true })).result, '[1, 2]');
    const id2 = await plain.startWith({ input: 'abc' });
    assert.equal(await plain.awaitResult(id2), 'ABC');
    assert.deepEqual(await upper.map(['a', 'b', 'c']), ['A', 'B', 'C']);
    await assert.rejects(upper.start('a', 'b'), InvalidUseError);
    await assert.rejects(upper.start(5), InvalidUseError);
  });

  test('a failing function: FAILED after max_retries + 1 attempts, InvocationFailedError', async () => {
    const fail = await fn('fail');
    const id = await fail.start();
    await assert.rejects(fail.awaitResult(id), (e) => {
      assert.ok(e instanceof InvocationFailedError);
      assert.match(e.message, /boom/);
      assert.equal(e.invocation?.status, 'FAILED');
      return true;
    });
    const inv = await fail.get(id);
    assert.equal(inv.status, 'FAILED');
    assert.equal(inv.numFailedAttempts, 2);
    assert.match(inv.readableStatus(), /^\(FAILED(?: - terminating)?, 2 failed attempts\)$/);
  });

  test('cancel: RUNNING with progress, then CANCELLED, InvocationCancelledError', async () => {
    const slow = await fn('slow');
    const id = await slow.start();
    const running = await waitFor(slow, id, (i) => i.status === 'RUNNING' && i.result === 7);
    assert.equal(running.terminated, false);
    assert.equal(running.finished, false);
    await slow.cancel(id);
    await assert.rejects(slow.awaitResult(id), InvocationCancelledError);
    const inv = await waitFor(slow, id, (i) => i.terminated);
    assert.equal(inv.status, 'CANCELLED');
    await assert.rejects(slow.cancel(id), InvocationIsAlreadyTerminated);
  });

  test('timeout: TIMED OUT, InvocationTimedOutError', async () => {
    const late = await fn('late');
    const id = await late.start();
    await assert.rejects(late.awaitResult(id, { timeoutMs: 30_000 }), InvocationTimedOutError);
    assert.equal((await late.get(id)).status, 'TIMED OUT');
  });

  test('awaitResult: its own timeout, and an AbortSignal', async () => {
    const slow = await fn('slow');
    const id = await slow.start();
    try {
      await assert.rejects(slow.awaitResult(id, { timeoutMs: 300 }), AwaitResultTimeoutError);
      const ctrl = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ctrl.abort(), 200);
      await assert.rejects(slow.awaitResult(id, { signal: ctrl.signal }), { name: 'AbortError' });
      assert.ok(Date.now() - t0 < 1500);
      // a held GET never outlasts timeoutMs: 300 ms leave no whole second to wait
      await assert.rejects(slow.awaitResult(id, { timeoutMs: 300, serverWaitSeconds: 1 }), AwaitResultTimeoutError);
    } finally {
      await slow.cancel(id);
    }
  });

  test('an aborted start creates no invocation', async () => {
    const lister = await fn('lister');
    const before = (await lister.list()).invocationIds.length;
    await assert.rejects(lister.startWith({ args: [], signal: AbortSignal.abort() }), { name: 'AbortError' });
    await assert.rejects(lister.get(NO_SUCH_INV, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal((await lister.list()).invocationIds.length, before);
  });

  test('list: newest first, paged with nextOffset', async () => {
    const lister = await fn('lister');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await lister.start(i));
    const all = await lister.list();
    assert.deepEqual(new Set(all.invocationIds), new Set(ids));
    assert.equal(all.nextOffset, null);
    const first = await lister.list({ maxResults: 2 });
    assert.equal(first.invocationIds.length, 2);
    assert.equal(typeof first.nextOffset, 'string');
    const second = await lister.list({ maxResults: 2, offset: first.nextOffset });
    assert.equal(second.invocationIds.length, 1);
    assert.equal(second.nextOffset, null);
    assert.deepEqual([...first.invocationIds, ...second.invocationIds], all.invocationIds);
    // SUCCEEDED can be seen before the server has TERMINATED the invocation
    await Promise.all(ids.map((id) => waitFor(lister, id, (i) => i.terminated)));
    assert.deepEqual((await lister.list({ status: 'RUNNING' })).invocationIds, []);
    assert.equal((await lister.list({ status: 'TERMINATED' })).invocationIds.length, 3);
  });

  test('the input size limit is checked before sending', async () => {
    const upper = await fn('upper', { raw: true });
    await assert.rejects(upper.start('x'.repeat(250_000)), FunctionInputSizeLimitExceeded);
  });

  test('start options: idempotency, priority and key, a delayed start; checked before sending', async () => {
    const echo = await fn('echo');
    const a = await echo.startWith({ args: [1], idempotencyKey: 'once', priority: 7, concurrencyKey: 'k1' });
    assert.equal(await echo.startWith({ args: [1], idempotencyKey: 'once' }), a);
    const info = (await echo.get(a)).info;
    assert.equal(info.priority, 7);
    assert.equal(info.concurrency_key, 'k1');
    assert.equal(info.idempotency_key, 'once');
    const t0 = Date.now() / 1000;
    const late = await echo.startWith({ args: [2], delayMs: 1500 });
    const pending = await echo.get(late);
    assert.ok(Math.abs(Number(pending.info.start_at) - (t0 + 1.5)) < 1, `start_at ${pending.info.start_at}`);
    assert.equal(pending.info.executions.length, 0);
    assert.deepEqual(await echo.awaitResult(late), [[2], {}]);
    const ran = await echo.get(late);
    const started = Number(ran.info.executions[0]?.execution_start_time_us) / 1e6; // the _us twin: whole seconds would round down
    assert.ok(Number(started) >= Number(pending.info.start_at) - 0.01, `started ${started}, start_at ${pending.info.start_at}: ${JSON.stringify(ran.info)}`);
    const lister = await fn('lister');
    const before = (await lister.list()).invocationIds.length;
    for (const bad of [{ priority: 101 }, { priority: 1.5 }, { concurrencyKey: '' }, { idempotencyKey: 'x'.repeat(257) },
      { startAt: new Date(), delayMs: 1 }, { delayMs: -1 }, { startAt: Number.NaN }]) {
      await assert.rejects(lister.startWith({ args: [], ...bad }), InvalidUseError, JSON.stringify(bad));
    }
    assert.equal((await lister.list()).invocationIds.length, before);
  });

  test('heartbeat: from inside a task it reaches the server; outside one it is refused', async () => {
    assert.equal(await (await fn('beat')).callRemote(), 'alive');
    await assert.rejects(mn.heartbeat({ client }), InvalidUseError);
  });

  test('a later version does not move a pinned function', async () => {
    const echo = await fn('echo');
    const v2 = (await client.createVersion(P, {
      default_docker_image: 'unused',
      functions: [{ function_name: 'echo', command: ['sh', '-c', 'echo v2'], resource_spec: { virtual_cpus: 0.1, memory_gbs: 0.25, max_concurrency: 10 }, execution_spec: { max_retries: 0, timeout_seconds: 60 } }],
    })).version_id;
    assert.notEqual(v2, v1);
    assert.equal(echo.versionId, v1);
    assert.deepEqual(await echo.callRemote(9), [[9], {}]);
    const latest = await fn('echo');
    assert.equal(latest.versionId, v2);
    assert.equal(await latest.callRemote(), 'v2');
    // the other functions are gone from the newest version
    await assert.rejects(fn('upper'), FunctionDoesNotExist);
    assert.equal((await fn('upper', { versionId: v1 })).versionId, v1);
  });
});

describe('errors from the real server', () => {
  test('ProjectDoesNotExist, VersionDoesNotExist, FunctionDoesNotExist', async () => {
    await assert.rejects(client.getDeployedFunction({ projectName: 'no-such-project', functionName: 'f' }), (e) => {
      assert.ok(e instanceof ProjectDoesNotExist && e instanceof MultinodeApiError);
      assert.equal(e.status, 404);
      assert.equal(e.detail, 'A project with this name does not exist');
      return true;
    });
    await assert.rejects(fn('echo', { versionId: `ver-${'0'.repeat(32)}` }), VersionDoesNotExist);
    await assert.rejects(fn('nope'), (e) => {
      assert.ok(e instanceof FunctionDoesNotExist);
      assert.equal(e.status, 404);
      assert.match(e.message, /Function "nope" does not exist on version "ver-/);
      return true;
    });
    // the server's own answer for an unknown function
    await assert.rejects(client.createInvocation(P, v1, 'nope', { input: '' }), (e) => {
      assert.ok(e instanceof FunctionDoesNotExist);
      assert.equal(e.detail, 'A function with this name does not exist for this project version');
      return true;
    });
  });

  test('InvocationDoesNotExist, InvocationIsAlreadyTerminated', async () => {
    const echo = await fn('echo', { versionId: v1 });
    await assert.rejects(echo.get(NO_SUCH_INV), InvocationDoesNotExist);
    await assert.rejects(echo.cancel(NO_SUCH_INV), InvocationDoesNotExist);
    await assert.rejects(echo.awaitResult(NO_SUCH_INV), InvocationDoesNotExist);
    const id = await echo.start();
    await echo.awaitResult(id);
    await waitFor(echo, id, (i) => i.terminated);
    await assert.rejects(echo.cancel(id), InvocationIsAlreadyTerminated);
  });

  test('ApiKeyIsInvalid (403); a missing key stays a plain MultinodeApiError', async () => {
    const wrong = new MultinodeClient({ apiUrl: d.url, apiKey: 'not-the-key-at-all' });
    await assert.rejects(wrong.getDeployedFunction({ projectName: P, functionName: 'echo' }), (e) => {
      assert.ok(e instanceof ApiKeyIsInvalid);
      assert.equal(e.status, 403);
      return true;
    });
    const none = new MultinodeClient({ apiUrl: d.url, apiKey: null });
    assert.deepEqual(await none.health(), { status: 'healthy' });
    await assert.rejects(none.listProjects(), (e) => {
      assert.equal(/** @type {any} */ (e).constructor, MultinodeApiError);
      assert.equal(/** @type {any} */ (e).status, 403);
      assert.equal(/** @type {any} */ (e).detail, 'Not authenticated');
      return true;
    });
  });

  test('OffsetIsInvalid, ParentFunctionNameIsMissing, ParentInvocationIdIsMissing, ParentInvocationDoesNotExist', async () => {
    const echo = await fn('echo', { versionId: v1 });
    await assert.rejects(echo.list({ offset: 'not-an-offset' }), OffsetIsInvalid);
    await assert.rejects(client.listInvocations(P, v1, 'echo', { parentInvocationId: NO_SUCH_INV }), ParentFunctionNameIsMissing);
    await assert.rejects(client.listInvocations(P, v1, 'echo', { parentFunctionName: 'echo' }), ParentInvocationIdIsMissing);
    await assert.rejects(
      echo.startWith({ args: [], parent: { function_name: 'echo', invocation_id: NO_SUCH_INV } }),
      ParentInvocationDoesNotExist,
    );
  });

  test('ProjectNameIsTooLong, ProjectAlreadyExists, ProjectIsBeingDeleted', async () => {
    await assert.rejects(client.createProject('x'.repeat(65)), ProjectNameIsTooLong);
    await assert.rejects(client.createProject(P), ProjectAlreadyExists);
    // a project with a running invocation stays "being deleted" until its
    // worker has ended: the command takes a second to answer SIGTERM
    await d.deployCommands('doomed', [
      { name: 'f', command: ['sh', '-c', 'trap "sleep 1; exit 0" TERM; multinode progress up; sleep 30 & wait'] },
    ]);
    const f = await client.getDeployedFunction({ projectName: 'doomed', functionName: 'f' });
    const id = await f.start();
    await waitFor(f, id, (i) => i.status === 'RUNNING');
    await client.deleteProject('doomed');
    await assert.rejects(
      client.createVersion('doomed', { default_docker_image: 'unused', functions: [] }),
      ProjectIsBeingDeleted,
    );
  });

  test('ExecutionDoesNotExist, ExecutionHasAlreadyStarted, ExecutionHasAlreadyFinished', async () => {
    const echo = await fn('echo', { versionId: v1 });
    const id = await echo.start();
    await echo.awaitResult(id);
    const inv = await waitFor(echo, id, (i) => i.terminated);
    const exe = inv.info.executions[0].execution_id;
    await assert.rejects(client.getExecution(P, v1, 'echo', id, `exe-${'0'.repeat(32)}`), ExecutionDoesNotExist);
    // the ids alone are enough (GET /invocations/{id}, GET /executions/{id})
    const byId = await client.getInvocationById(id);
    assert.deepEqual([byId.project_name, byId.version_id, byId.function_name], [P, v1, 'echo']);
    const exeById = await client.getExecutionById(exe);
    assert.equal(exeById.execution_id, exe);
    assert.equal(exeById.invocation_id, id);
    await assert.rejects(client.getInvocationById(NO_SUCH_INV), InvocationDoesNotExist);
    await assert.rejects(client.getExecutionById(`exe-${'0'.repeat(32)}`), ExecutionDoesNotExist);
    await assert.rejects(client.startExecution(P, v1, 'echo', id, exe), ExecutionHasAlreadyStarted);
    await assert.rejects(client.updateExecution(P, v1, 'echo', id, exe, 'x'), ExecutionHasAlreadyFinished);
    await assert.rejects(client.finishExecution(P, v1, 'echo', id, exe, { outcome: 'SUCCEEDED' }), ExecutionHasAlreadyFinished);
    const logs = await client.getExecutionLogs(P, v1, 'echo', id, exe);
    assert.ok(Array.isArray(logs.log_lines));
  });

  test('a validation error (422) keeps the detail list', async () => {
    await assert.rejects(client.request('POST', `/projects/${P}/versions/${v1}/functions/echo/invocations`, { body: {} }), (e) => {
      assert.equal(/** @type {any} */ (e).constructor, MultinodeApiError);
      assert.equal(/** @type {any} */ (e).status, 422);
      assert.ok(Array.isArray(/** @type {any} */ (e).detail));
      return true;
    });
  });
});

describe('configuration', () => {
  test('a Node program finds the daemon through the file `multinode login` writes', () => {
    const home = join(d.work, 'login-home');
    mkdirSync(home);
    /** @type {Record<string, string>} */
    const env = {};
    for (const [k, v] of Object.entries(d.env)) if (!k.startsWith('MULTINODE_')) env[k] = v;
    env.HOME = home;
    const login = spawnSync(join(BIN_DIR, 'multinode'),
      ['login', '--url', d.url, '--api-key', d.key], { env, encoding: 'utf8' });
    assert.equal(login.status, 0, login.stderr);
    const script = `
      import { getDeployedFunction } from ${JSON.stringify(join(JS_DIR, 'src', 'index.js'))};
      const f = await getDeployedFunction({ projectName: ${JSON.stringify(P)}, functionName: 'answer', versionId: ${JSON.stringify(v1)} });
      console.log(JSON.stringify(await f.callRemote()));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '42');
    // without the file and the environment: MissingConfigurationError
    const bare = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { MultinodeClient } from ${JSON.stringify(join(JS_DIR, 'src', 'index.js'))};
       try { new MultinodeClient(); } catch (e) { console.log(e.name); }`],
    { env: { ...env, HOME: join(d.work, 'nowhere') }, encoding: 'utf8' });
    assert.equal(bare.stdout.trim(), 'MissingConfigurationError');
  });
});

describe('a Python task started from Node', { skip: !pythonTasksAvailable() && 'the Python package (python/multinode) is not there' }, () => {
  test('arguments, keyword arguments, tuples in the result, and a Python exception', async () => {
    const dir = join(d.work, 'pytasks');
    mkdirSync(dir);
    writeFileSync(join(dir, 'main.py'), [
      'from multinode import Multinode',
      'mn = Multinode()',
      '',
      '@mn.function()',
      'def add(a, b, scale=1):',
      '    return {"sum": (a + b) * scale, "pair": (a, b), "nested": [(1, 2), {"k": None}]}',
      '',
      '@mn.function()',
      'def explode(message):',
      '    raise ValueError(message)',
      '',
    ].join('\n'));
    const deploy = d.cli('deploy', dir, '--project-name', 'pyp');
    assert.equal(deploy.status, 0, `${deploy.stdout}\n${deploy.stderr}\n${d.tail()}`);
    const add = await client.getDeployedFunction({ projectName: 'pyp', functionName: 'add' });
    const id = await add.start(2, 3);
    assert.deepEqual(await add.awaitResult(id), { sum: 5, pair: [2, 3], nested: [[1, 2], { k: null }] });
    const kw = await add.startWith({ args: [2, 3], kwargs: { scale: 10 } });
    assert.deepEqual(await add.awaitResult(kw), { sum: 50, pair: [2, 3], nested: [[1, 2], { k: null }] });
    const explode = await client.getDeployedFunction({ projectName: 'pyp', functionName: 'explode' });
    await assert.rejects(explode.callRemote('from Node with love'), (e) => {
      assert.ok(e instanceof InvocationFailedError);
      assert.match(e.message, /ValueError/);
      assert.match(e.message, /from Node with love/);
      return true;
    });
  });
});
