// @ts-check
/**
 * Real daemons for the tests: each call of startDaemon() runs its own
 * multinoded (embedded Postgres, local provider, a free port, a fresh
 * data_dir under /tmp), from MN_BIN_DIR (default: build/bin of this checkout).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { MultinodeClient } from '../src/index.js';

export const SOURCE_DIR = process.env.MN_SOURCE_DIR || resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN_DIR = process.env.MN_BIN_DIR || join(SOURCE_DIR, 'build', 'bin');
export const JS_DIR = join(SOURCE_DIR, 'js');
export const KEY = 'js-e2e-key-0123456789';
/** Debian's python3: the one python3-jsonpickle is installed for. */
export const PYTHON = process.env.MN_PYTHON || '/usr/bin/python3';

/** A free TCP port on 127.0.0.1. @returns {Promise<number>} */
export async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** @param {number} ms */
export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `check` every 20 ms until it returns something truthy.
 *
 * @template T
 * @param {string} what
 * @param {() => Promise<T> | T} check
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
export async function waitUntil(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  /** @type {unknown} */
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return /** @type {T} */ (last);
    } catch (e) {
      last = e;
    }
    await delay(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
}

/** The Python package is there to deploy a Python task (MN_JS_PYTHON=0: act as if not). */
export function pythonTasksAvailable() {
  if (process.env.MN_JS_PYTHON === '0') return false;
  try {
    statSync(join(SOURCE_DIR, 'python', 'multinode', 'task.py'));
    statSync(join(SOURCE_DIR, 'python', 'multinode', 'deploy.py'));
    statSync(PYTHON);
  } catch {
    return false;
  }
  return spawnSync(PYTHON, ['-c', 'import jsonpickle'], { stdio: 'ignore' }).status === 0;
}

/** What a command function needs besides its argv. */
export const SMALL = {
  resource_spec: { virtual_cpus: 0.1, memory_gbs: 0.25, max_concurrency: 10 },
};

/**
 * @typedef {object} Daemon
 * @property {string} url
 * @property {string} key
 * @property {string} work the test's folder (data_dir, HOME, log)
 * @property {string} home
 * @property {Record<string, string>} env an environment for the CLI and child programs
 * @property {MultinodeClient} client a client with the admin key
 * @property {() => string} tail the end of the daemon's log
 * @property {(project: string, functions: Array<{ name: string, command: string[],
 *   maxRetries?: number, timeoutSeconds?: number }>) => Promise<string>} deployCommands
 *   creates the project and one version of command functions; its version id
 * @property {(...args: string[]) => { status: number | null, stdout: string, stderr: string }} cli
 * @property {() => Promise<void>} stop
 */

/**
 * @param {{ extraYaml?: string, serverYaml?: string }} [options] serverYaml: lines under
 *   `server:` (indented by two spaces)
 * @returns {Promise<Daemon>}
 */
export async function startDaemon(options = {}) {
  const work = mkdtempSync('/tmp/mn-js.');
  chmodSync(work, 0o755); // the embedded Postgres runs as `postgres`
  const home = join(work, 'home');
  mkdirSync(home);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(work, 'multinode.yaml');
  writeFileSync(
    config,
    `server:\n  listen: 127.0.0.1:${port}\n  api_key: ${KEY}\n${options.serverYaml ?? ''}data_dir: ${work}/data\n${options.extraYaml ?? ''}`,
  );
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('MULTINODE_')) env[k] = v;
  }
  Object.assign(env, {
    HOME: home,
    PATH: `${BIN_DIR}:${env.PATH ?? '/usr/bin:/bin'}`,
    PYTHONPATH: join(SOURCE_DIR, 'python'),
    PYTHONDONTWRITEBYTECODE: '1',
    MULTINODE_PYTHON: PYTHON,
  });
  const logPath = join(work, 'daemon.log');
  const logFd = openSync(logPath, 'a');
  const proc = spawn(join(BIN_DIR, 'multinoded'), ['--config', config], {
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  /** @type {number | null} */
  let exitCode = null;
  let exited = false;
  const exitPromise = new Promise((r) => proc.once('exit', (code) => { exited = true; exitCode = code; r(undefined); }));
  proc.once('error', () => { exited = true; });

  const tail = () => {
    try {
      return `daemon log (${logPath}):\n${readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n')}`;
    } catch {
      return '';
    }
  };

  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await exitPromise;
      clearTimeout(t);
    }
    try {
      const pid = Number(readFileSync(join(work, 'data', 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
    if (!process.env.MN_KEEP_WORK) {
      makeWritable(work);
      rmSync(work, { recursive: true, force: true });
    }
  };

  try {
    await waitUntil(
      'the daemon to answer',
      async () => {
        if (exited) throw new Error(`multinoded exited with ${exitCode}\n${tail()}`);
        const res = await fetch(`${url}/`);
        return res.status === 200;
      },
      90_000,
    );
  } catch (e) {
    await stop();
    throw new Error(`${/** @type {Error} */ (e).message}\n${tail()}`);
  }

  const client = new MultinodeClient({ apiUrl: url, apiKey: KEY });
  /** @type {Daemon['deployCommands']} */
  const deployCommands = async (project, functions) => {
    await client.createProject(project);
    const version = await client.createVersion(project, {
      default_docker_image: 'unused',
      functions: functions.map((f) => ({
        function_name: f.name,
        command: f.command,
        ...SMALL,
        execution_spec: { max_retries: f.maxRetries ?? 0, timeout_seconds: f.timeoutSeconds ?? 60 },
      })),
    });
    return version.version_id;
  };
  const cliEnv = { ...env, MULTINODE_API_URL: url, MULTINODE_API_KEY: KEY };
  /** @type {Daemon['cli']} */
  const cli = (...args) => {
    const p = spawnSync(join(BIN_DIR, 'multinode'), args, { env: cliEnv, cwd: work, encoding: 'utf8', timeout: 120_000 });
    return { status: p.status, stdout: p.stdout ?? '', stderr: p.stderr ?? '' };
  };
  return { url, key: KEY, work, home, env: cliEnv, client, tail, deployCommands, cli, stop };
}

/** Snapshots are read-only by design: make a tree removable. @param {string} dir */
function makeWritable(dir) {
  /** @type {string[]} */
  const todo = [dir];
  while (todo.length) {
    const d = /** @type {string} */ (todo.pop());
    try {
      chmodSync(d, 0o755);
      for (const ent of readdirSync(d, { withFileTypes: true })) {
        if (ent.isDirectory() && !ent.isSymbolicLink()) todo.push(join(d, ent.name));
      }
    } catch {
      // not ours (postgres' files are removed by rm as root anyway)
    }
  }
}
