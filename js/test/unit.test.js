// The parts that need no daemon: encoding, the derived-status table, the
// error catalogue, configuration, and the transport (retries, aborts,
// timeouts) against tiny node:http servers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import * as mn from '../src/index.js';
import { JS_DIR, PYTHON, SOURCE_DIR, delay, freePort } from './daemon.js';

const {
  ApiConnectionError,
  ApiTimeoutError,
  ConfigurationError,
  ERROR_TYPES,
  HttpClient,
  InvocationStatus,
  MissingConfigurationError,
  MultinodeApiError,
  MultinodeClient,
  MultinodeError,
  decodeOutput,
  deriveInvocation,
  encodeInput,
  loadConfig,
  resolveError,
} = mn;

/**
 * A node:http server whose handler the test gives; its URL and a closer.
 * @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void} handler
 * @param {number} [port]
 */
async function httpServer(handler, port = 0) {
  const server = createServer(handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const hasJsonpickle =
  spawnSync(PYTHON, ['-c', 'import jsonpickle'], { stdio: 'ignore' }).status === 0;

/** Run Python code with jsonpickle; its stdout. @param {string} code @param {string} [input] */
function python(code, input = '') {
  const p = spawnSync(PYTHON, ['-c', code], { input, encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  return p.stdout;
}

describe('serialization', () => {
  test('start(...args) encodes [{"py/tuple": args}, {}]', () => {
    assert.equal(encodeInput([1, 'a', { b: [1, 2] }]), '[{"py/tuple":[1,"a",{"b":[1,2]}]},{}]');
    assert.equal(encodeInput([]), '[{"py/tuple":[]},{}]');
    assert.equal(encodeInput([2], { scale: 3 }), '[{"py/tuple":[2]},{"scale":3}]');
  });

  test('jsonpickle decodes the input to Python (args tuple, kwargs dict)', { skip: !hasJsonpickle && 'no python3-jsonpickle' }, () => {
    const out = python(
      'import sys, jsonpickle\nargs, kwargs = jsonpickle.decode(sys.stdin.read())\nprint(repr(args), repr(kwargs))',
      encodeInput([1, 'é', { b: [1, null, true] }], { k: 2.5 }),
    );
    assert.equal(out.trim(), "(1, 'é', {'b': [1, None, True]}) {'k': 2.5}");
  });

  test('outputs written by jsonpickle decode to plain JavaScript values', { skip: !hasJsonpickle && 'no python3-jsonpickle' }, () => {
    const text = python(
      'import jsonpickle\nx = [1, 2]\nd = {"a": (1, 2)}\n' +
        'print(jsonpickle.encode({"t": (1, (2, 3)), "s": {7}, "same": [x, x, d, d], "nan": float("nan"), "inf": float("-inf"), "none": None}))',
    ).trim();
    const v = /** @type {any} */ (decodeOutput(text));
    assert.deepEqual(v.t, [1, [2, 3]]);
    assert.deepEqual(v.s, [7]);
    assert.deepEqual(v.same, [[1, 2], [1, 2], { a: [1, 2] }, { a: [1, 2] }]);
    assert.equal(v.same[0], v.same[1], 'py/id resolves to the same array');
    assert.equal(v.same[2], v.same[3]);
    assert.ok(Number.isNaN(v.nan));
    assert.equal(v.inf, -Infinity);
    assert.equal(v.none, null);
  });

  test('py/id numbering follows jsonpickle (top-level container is 0)', () => {
    assert.deepEqual(decodeOutput('[[1, 2], {"py/id": 1}, {"a": 1}, {"py/id": 2}]'), [[1, 2], [1, 2], { a: 1 }, { a: 1 }]);
    assert.deepEqual(decodeOutput('{"py/tuple": [{"py/tuple": [1]}, [3], {"py/id": 0}]}'), [[1], [3], [3]]);
  });

  test('text that is not JSON comes back unchanged; NaN inside strings stays text', () => {
    assert.equal(decodeOutput('hello world'), 'hello world');
    assert.equal(decodeOutput(''), '');
    assert.equal(decodeOutput(null), null);
    assert.equal(decodeOutput('42'), 42);
    assert.deepEqual(decodeOutput('["NaN", NaN, "Infinity"]'), ['NaN', NaN, 'Infinity']);
    assert.equal(decodeOutput('NaN or not'), 'NaN or not');
    assert.deepEqual(decodeOutput('{"py/object": "m.P", "a": {"py/tuple": [1]}}'), { 'py/object': 'm.P', a: [1] });
  });
});

describe('derived status', () => {
  const path = join(SOURCE_DIR, 'tests', 'data', 'status', 'derived_status.json');
  const table = JSON.parse(readFileSync(path, 'utf8'));
  const cases = Array.isArray(table) ? table : table.cases;

  test('the shared table has cases', () => {
    assert.ok(Array.isArray(cases) && cases.length > 0, path);
  });

  for (const c of cases) {
    test(`table: ${c.name}`, () => {
      const inv = deriveInvocation(c.invocation);
      /** @type {Record<string, unknown>} */
      const got = {
        status: inv.status,
        result: inv.result,
        error: inv.error,
        num_failed_attempts: inv.numFailedAttempts,
        terminated: inv.terminated,
        finished: inv.finished,
        readable_status: inv.readableStatus(),
        invocation_id: inv.invocationId,
      };
      for (const [key, want] of Object.entries(c.expected)) {
        assert.ok(key in got, `the table expects "${key}", which this client does not derive`);
        assert.deepEqual(got[key], want, `${key} (rule ${c.rule})`);
      }
    });
  }

  test('InvocationStatus values are the original strings', () => {
    assert.equal(InvocationStatus.TIMED_OUT, 'TIMED OUT');
    assert.deepEqual(
      Object.values(InvocationStatus).filter((s) => mn.isFinished(s)).sort(),
      ['CANCELLED', 'FAILED', 'SUCCEEDED', 'TIMED OUT'],
    );
  });

  test('raw mode keeps the output string', () => {
    const info = cases.find((/** @type {any} */ c) => c.expected.status === 'SUCCEEDED' && c.expected.result !== null)?.invocation;
    assert.ok(info);
    const output = info.executions.at(-1).output;
    assert.equal(deriveInvocation(info, { raw: true }).result, output);
  });
});

describe('errors', () => {
  test('the catalogue has the 23 rows of docs/compatibility.md §2.2', () => {
    assert.equal(ERROR_TYPES.length, 23);
    assert.equal(new Set(ERROR_TYPES.map((c) => `${c.STATUS} ${c.DETAIL}`)).size, 23);
    for (const cls of ERROR_TYPES) assert.equal(mn[/** @type {keyof typeof mn} */ (cls.name)], cls, `${cls.name} is exported`);
  });

  for (const cls of ERROR_TYPES) {
    test(`rebuilt from status + detail: ${cls.name}`, () => {
      const e = resolveError(/** @type {number} */ (cls.STATUS), cls.DETAIL);
      assert.ok(e instanceof cls);
      assert.ok(e instanceof MultinodeApiError && e instanceof MultinodeError && e instanceof Error);
      assert.equal(e.name, cls.name);
      assert.equal(e.status, cls.STATUS);
      assert.equal(e.detail, cls.DETAIL);
      assert.equal(e.message, cls.DETAIL);
      // both must match: the same detail with another status stays generic
      const other = resolveError(cls.STATUS === 409 ? 400 : 409, cls.DETAIL);
      assert.equal(other.constructor, MultinodeApiError);
      // a default-constructed one carries its catalogue entry
      const made = new cls();
      assert.equal(made.status, cls.STATUS);
      assert.equal(made.detail, cls.DETAIL);
    });
  }

  test('unknown combinations stay MultinodeApiError', () => {
    const e = resolveError(403, 'Not authenticated');
    assert.equal(e.constructor, MultinodeApiError);
    assert.equal(e.message, 'HTTP 403: Not authenticated');
    const v = resolveError(422, [{ loc: ['body', 'input'], msg: 'field required' }]);
    assert.equal(v.constructor, MultinodeApiError);
    assert.deepEqual(v.detail, [{ loc: ['body', 'input'], msg: 'field required' }]);
    assert.equal(resolveError(404, 'A project with this name does not exist ').constructor, MultinodeApiError);
  });

  test('every catalogued answer becomes its class through the HTTP client', async () => {
    const srv = await httpServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      res.writeHead(Number(q.get('status')), { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: q.get('detail') }));
    });
    try {
      const http = new HttpClient({ apiUrl: srv.url, apiKey: 'k' });
      for (const cls of [...ERROR_TYPES, MultinodeApiError]) {
        const status = cls.STATUS ?? 500;
        const detail = cls.DETAIL ?? 'Internal Server Error';
        await assert.rejects(http.request('GET', '/', { query: { status, detail } }), (e) => {
          assert.equal(/** @type {any} */ (e).constructor, cls);
          assert.equal(/** @type {any} */ (e).status, status);
          assert.equal(/** @type {any} */ (e).detail, detail);
          return true;
        });
      }
    } finally {
      await srv.close();
    }
  });
});

describe('configuration', () => {
  const home = mkdtempSync('/tmp/mn-js-home.');
  after(() => rmSync(home, { recursive: true, force: true }));

  test('environment first, then ~/.multinode/config.json, then the default URL', () => {
    assert.throws(() => loadConfig({ HOME: home }), MissingConfigurationError);
    assert.deepEqual(loadConfig({ HOME: home, MULTINODE_API_KEY: 'k' }), { apiUrl: 'http://127.0.0.1:5000', apiKey: 'k' });
    mkdirSync(join(home, '.multinode'));
    writeFileSync(join(home, '.multinode', 'config.json'), JSON.stringify({ api_url: 'http://file:1', api_key: 'fk' }));
    assert.deepEqual(loadConfig({ HOME: home }), { apiUrl: 'http://file:1', apiKey: 'fk' });
    assert.deepEqual(loadConfig({ HOME: home, MULTINODE_API_URL: 'http://env:2', MULTINODE_API_KEY: '' }), {
      apiUrl: 'http://env:2',
      apiKey: 'fk',
    });
    assert.deepEqual(loadConfig({ HOME: home, MULTINODE_API_KEY: 'ek' }), { apiUrl: 'http://file:1', apiKey: 'ek' });
    assert.deepEqual(loadConfig({ HOME: home }, { apiUrl: 'http://given:3' }), { apiUrl: 'http://given:3', apiKey: 'fk' });
  });

  test('a malformed config file is a ConfigurationError', () => {
    writeFileSync(join(home, '.multinode', 'config.json'), '{"api_key": 5}');
    assert.throws(() => loadConfig({ HOME: home }), /api_key: must be a string/);
    writeFileSync(join(home, '.multinode', 'config.json'), 'not json');
    assert.throws(() => loadConfig({ HOME: home }), ConfigurationError);
  });

  test('invalid URLs are rejected; a trailing slash is dropped', () => {
    assert.throws(() => new HttpClient({ apiUrl: 'not a url' }), ConfigurationError);
    assert.throws(() => new HttpClient({ apiUrl: 'ftp://host' }), ConfigurationError);
    assert.equal(new MultinodeClient({ apiUrl: 'http://h:1/prefix/', apiKey: 'k' }).apiUrl, 'http://h:1/prefix');
  });

  test('package.json and VERSION agree', () => {
    const pkg = JSON.parse(readFileSync(join(JS_DIR, 'package.json'), 'utf8'));
    assert.equal(pkg.version, mn.VERSION);
    assert.equal(pkg.name, 'multinode');
  });
});

describe('transport', () => {
  test('retries a refused connection until the server comes up', async () => {
    const port = await freePort();
    let hits = 0;
    /** @type {Awaited<ReturnType<typeof httpServer>> | undefined} */
    let srv;
    const starting = delay(300).then(async () => {
      srv = await httpServer((req, res) => {
        hits++;
        assert.equal(req.headers.authorization, 'Bearer the-key');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"healthy"}');
      }, port);
    });
    try {
      const http = new HttpClient({ apiUrl: `http://127.0.0.1:${port}`, apiKey: 'the-key', maxRetries: 6, retryDelayMs: 50 });
      const t0 = Date.now();
      assert.deepEqual(await http.request('GET', '/'), { status: 'healthy' });
      assert.ok(Date.now() - t0 >= 250, 'the answer came from the late server');
      assert.equal(hits, 1);
    } finally {
      await starting;
      await srv?.close();
    }
  });

  test('gives up with ApiConnectionError after maxRetries', async () => {
    const port = await freePort();
    const http = new HttpClient({ apiUrl: `http://127.0.0.1:${port}`, apiKey: 'k', maxRetries: 2, retryDelayMs: 10 });
    await assert.rejects(http.request('POST', '/x', { body: {} }), (e) => {
      assert.ok(e instanceof ApiConnectionError && e instanceof MultinodeError);
      assert.match(/** @type {Error} */ (e).message, /ECONNREFUSED/);
      return true;
    });
  });

  test('no retry after an HTTP answer, even a 500', async () => {
    let hits = 0;
    const srv = await httpServer((req, res) => {
      hits++;
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    });
    try {
      const http = new HttpClient({ apiUrl: srv.url, apiKey: 'k', retryDelayMs: 10 });
      for (const method of ['GET', 'PUT', 'POST']) {
        await assert.rejects(http.request(method, '/boom'), (e) => {
          assert.equal(/** @type {any} */ (e).constructor, MultinodeApiError);
          assert.equal(/** @type {any} */ (e).status, 500);
          assert.equal(/** @type {any} */ (e).detail, 'Internal Server Error');
          return true;
        });
      }
      assert.equal(hits, 3);
    } finally {
      await srv.close();
    }
  });

  test('a connection broken before the answer: GET is retried, POST is not', async () => {
    /** @type {Record<string, number>} */
    const hits = {};
    const srv = await httpServer((req, res) => {
      const key = `${req.method} ${req.url}`;
      hits[key] = (hits[key] ?? 0) + 1;
      if (hits[key] === 1) {
        req.socket.destroy(); // reset before any answer
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    try {
      const http = new HttpClient({ apiUrl: srv.url, apiKey: 'k', retryDelayMs: 10 });
      assert.deepEqual(await http.request('GET', '/g'), { ok: true });
      assert.equal(hits['GET /g'], 2);
      await assert.rejects(http.request('POST', '/p', { body: { input: '' } }), ApiConnectionError);
      assert.equal(hits['POST /p'], 1);
    } finally {
      await srv.close();
    }
  });

  test('an AbortSignal cancels a call in flight', async () => {
    let arrived = 0;
    const srv = await httpServer(() => {
      arrived++; // never answers
    });
    try {
      const http = new HttpClient({ apiUrl: srv.url, apiKey: 'k' });
      const ctrl = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ctrl.abort(), 100);
      await assert.rejects(http.request('GET', '/hang', { signal: ctrl.signal }), { name: 'AbortError' });
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(arrived, 1);
      // a reason given to abort() is what the call rejects with
      const ctrl2 = new AbortController();
      const reason = new Error('user went away');
      setTimeout(() => ctrl2.abort(reason), 50);
      await assert.rejects(http.request('GET', '/hang', { signal: ctrl2.signal }), (e) => e === reason);
      // an already-aborted signal sends nothing
      await delay(100);
      const seen = arrived;
      await assert.rejects(http.request('POST', '/hang', { signal: AbortSignal.abort() }), { name: 'AbortError' });
      await delay(100);
      assert.equal(arrived, seen);
    } finally {
      await srv.close();
    }
  });

  test('an AbortSignal also interrupts the pause between retries', async () => {
    const port = await freePort();
    const http = new HttpClient({ apiUrl: `http://127.0.0.1:${port}`, apiKey: 'k', maxRetries: 10, retryDelayMs: 5000 });
    const t0 = Date.now();
    await assert.rejects(http.request('GET', '/', { signal: AbortSignal.timeout(150) }), { name: 'TimeoutError' });
    assert.ok(Date.now() - t0 < 2000);
  });

  test('a call that takes longer than timeoutMs is an ApiTimeoutError', async () => {
    const srv = await httpServer(() => {});
    try {
      const http = new HttpClient({ apiUrl: srv.url, apiKey: 'k', timeoutMs: 150 });
      await assert.rejects(http.request('GET', '/hang'), ApiTimeoutError);
      await assert.rejects(http.request('GET', '/hang', { timeoutMs: 50 }), ApiTimeoutError);
    } finally {
      await srv.close();
    }
  });

  test('MULTINODE_API_TIMEOUT sets the default timeout', () => {
    const saved = process.env.MULTINODE_API_TIMEOUT;
    try {
      process.env.MULTINODE_API_TIMEOUT = '2.5';
      assert.equal(new HttpClient({ apiUrl: 'http://h' }).timeoutMs, 2500);
      process.env.MULTINODE_API_TIMEOUT = 'soon';
      assert.throws(() => new HttpClient({ apiUrl: 'http://h' }), ConfigurationError);
    } finally {
      if (saved === undefined) delete process.env.MULTINODE_API_TIMEOUT;
      else process.env.MULTINODE_API_TIMEOUT = saved;
    }
  });

  test('a 2xx answer that is not JSON is an error; an empty one is null', async () => {
    const srv = await httpServer((req, res) => {
      res.writeHead(200);
      res.end(req.url === '/empty' ? '' : '<html>');
    });
    try {
      const http = new HttpClient({ apiUrl: srv.url, apiKey: 'k' });
      assert.equal(await http.request('GET', '/empty'), null);
      await assert.rejects(http.request('GET', '/html'), /not JSON/);
    } finally {
      await srv.close();
    }
  });
});
