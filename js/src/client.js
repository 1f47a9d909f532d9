// @ts-check
/**
 * The client: {@link MultinodeClient} (one REST method per endpoint) and
 * {@link DeployedFunction} (the Python client's invocation API, in
 * JavaScript's conventions), reached with {@link getDeployedFunction}.
 */
import { loadConfig } from './config.js';
import {
  AwaitResultTimeoutError,
  FunctionDoesNotExist,
  FunctionInputSizeLimitExceeded,
  InvalidUseError,
  InvocationCancelledError,
  InvocationFailedError,
  InvocationTimedOutError,
} from './errors.js';
import { HttpClient, sleep } from './http.js';
import { INPUT_LENGTH_LIMIT, encodeInput, pythonLength } from './serialization.js';
import { deriveInvocation } from './status.js';

/** The version reference that names a project's newest version. */
export const LATEST_VERSION = 'latest';

/** The first pause of awaitResult between two GETs (ms) ... */
export const POLL_INITIAL_MS = 50;
/** ... each pause is this many times the previous one ... */
export const POLL_GROWTH = 1.5;
/** ... up to this (ms). */
export const POLL_MAX_MS = 1000;

/**
 * @typedef {import('./http.js').HttpOptions} HttpOptions
 * @typedef {{ signal?: AbortSignal, timeoutMs?: number }} CallOptions
 * @typedef {{ function_name: string, invocation_id: string }} ParentInvocationDefinition
 */

/** @param {string} s */
const seg = (s) => encodeURIComponent(String(s));

/**
 * @param {string} p
 * @param {string} v
 * @param {string} f
 */
const fnPath = (p, v, f) => `/projects/${seg(p)}/versions/${seg(v)}/functions/${seg(f)}`;

/**
 * @param {CallOptions | undefined} o
 * @returns {CallOptions}
 */
const pick = (o) => ({ signal: o?.signal, timeoutMs: o?.timeoutMs });

/**
 * A control plane: one method per REST endpoint (docs/compatibility.md §2.4), each taking
 * an optional `{signal, timeoutMs}` last.
 */
export class MultinodeClient {
  /**
   * @param {Partial<HttpOptions>} [options] apiUrl and apiKey default to
   *   {@link loadConfig} (environment, then ~/.multinode/config.json)
   */
  constructor(options = {}) {
    const { apiUrl, apiKey } = loadConfig(process.env, options);
    /** The transport. @type {HttpClient} */
    this.http = new HttpClient({ ...options, apiUrl, apiKey });
  }

  /** The control plane's base URL. */
  get apiUrl() {
    return this.http.apiUrl;
  }

  /**
   * Any call: method, path (URL-encoded, from `/`), query, body.
   *
   * @param {string} method
   * @param {string} path
   * @param {import('./http.js').RequestOptions} [options]
   * @returns {Promise<any>}
   */
  request(method, path, options) {
    return this.http.request(method, path, options);
  }

  // -- service and projects ------------------------------------------------

  /** `GET /` → `{status: "healthy"}`. @param {CallOptions} [o] */
  health(o) {
    return this.request('GET', '/', pick(o));
  }
  /** @param {CallOptions} [o] */
  listProjects(o) {
    return this.request('GET', '/projects', pick(o));
  }
  /** @param {string} projectName @param {CallOptions} [o] */
  getProject(projectName, o) {
    return this.request('GET', `/projects/${seg(projectName)}`, pick(o));
  }
  /** @param {string} projectName @param {CallOptions} [o] */
  createProject(projectName, o) {
    return this.request('PUT', `/projects/${seg(projectName)}`, pick(o));
  }
  /** Marks the project for deletion. @param {string} projectName @param {CallOptions} [o] */
  deleteProject(projectName, o) {
    return this.request('DELETE', `/projects/${seg(projectName)}`, pick(o));
  }

  // -- versions ------------------------------------------------------------

  /**
   * @param {string} projectName
   * @param {Record<string, unknown>} definition a VersionDefinition
   * @param {CallOptions} [o]
   */
  createVersion(projectName, definition, o) {
    return this.request('POST', `/projects/${seg(projectName)}/versions`, {
      ...pick(o),
      body: definition,
    });
  }
  /**
   * @param {string} projectName
   * @param {string} [versionRef] a version id or `latest` (the default)
   * @param {CallOptions} [o]
   */
  getVersion(projectName, versionRef = LATEST_VERSION, o) {
    return this.request('GET', `/projects/${seg(projectName)}/versions/${seg(versionRef)}`, pick(o));
  }
  /** @param {string} projectName @param {CallOptions} [o] */
  listVersions(projectName, o) {
    return this.request('GET', `/projects/${seg(projectName)}/versions`, pick(o));
  }

  // -- invocations ---------------------------------------------------------

  /**
   * @param {string} projectName
   * @param {string} versionRef
   * @param {string} functionName
   * @param {{ input: string, parent_invocation?: ParentInvocationDefinition | null,
   *           [field: string]: unknown }} definition an InvocationDefinition
   * @param {CallOptions} [o]
   */
  createInvocation(projectName, versionRef, functionName, definition, o) {
    return this.request('POST', `${fnPath(projectName, versionRef, functionName)}/invocations`, {
      ...pick(o),
      body: definition,
    });
  }
  /**
   * @param {string} projectName
   * @param {string} versionRef
   * @param {string} functionName
   * @param {string} invocationId
   * @param {CallOptions & { waitSeconds?: number }} [o] waitSeconds: `?wait_seconds=N`
   *   (a server-side wait; daemons without it answer at once)
   */
  getInvocation(projectName, versionRef, functionName, invocationId, o) {
    const wait = o?.waitSeconds;
    return this.request(
      'GET',
      `${fnPath(projectName, versionRef, functionName)}/invocations/${seg(invocationId)}`,
      {
        ...pick(o),
        query: { wait_seconds: wait },
        timeoutMs:
          o?.timeoutMs ?? (wait ? Math.max(this.http.timeoutMs, wait * 1000 + 10_000) : undefined),
      },
    );
  }
  /**
   * `GET /invocations/{id}` (additive): the id alone; the answer names its
   * project, version and function.
   * @param {string} invocationId
   * @param {CallOptions} [o]
   */
  getInvocationById(invocationId, o) {
    return this.request('GET', `/invocations/${seg(invocationId)}`, pick(o));
  }
  /**
   * `GET /executions/{id}` (additive): the id alone.
   * @param {string} executionId
   * @param {CallOptions} [o]
   */
  getExecutionById(executionId, o) {
    return this.request('GET', `/executions/${seg(executionId)}`, pick(o));
  }
  /**
   * @param {string} projectName
   * @param {string} versionRef
   * @param {string} functionName
   * @param {string} invocationId
   * @param {CallOptions} [o]
   */
  cancelInvocation(projectName, versionRef, functionName, invocationId, o) {
    return this.request(
      'PUT',
      `${fnPath(projectName, versionRef, functionName)}/invocations/${seg(invocationId)}/cancel`,
      pick(o),
    );
  }
  /**
   * @param {string} projectName
   * @param {string} versionRef
   * @param {string} functionName
   * @param {CallOptions & { maxResults?: number, initialOffset?: string | null,
   *   status?: 'RUNNING' | 'TERMINATED', parentFunctionName?: string,
   *   parentInvocationId?: string }} [o]
   */
  listInvocations(projectName, versionRef, functionName, o = {}) {
    return this.request('GET', `${fnPath(projectName, versionRef, functionName)}/invocations`, {
      ...pick(o),
      query: {
        max_results: o.maxResults,
        initial_offset: o.initialOffset,
        status: o.status,
        parent_function_name: o.parentFunctionName,
        parent_invocation_id: o.parentInvocationId,
      },
    });
  }

  // -- executions ----------------------------------------------------------

  /**
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId
   */
  static executionPath(p, v, f, invocationId, executionId) {
    return `${fnPath(p, v, f)}/invocations/${seg(invocationId)}/executions/${seg(executionId)}`;
  }
  /**
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId @param {CallOptions} [o]
   */
  getExecution(p, v, f, invocationId, executionId, o) {
    return this.request('GET', MultinodeClient.executionPath(p, v, f, invocationId, executionId), pick(o));
  }
  /**
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId
   * @param {CallOptions & { maxLines?: number, initialOffset?: string | null }} [o]
   */
  getExecutionLogs(p, v, f, invocationId, executionId, o = {}) {
    return this.request('GET', `${MultinodeClient.executionPath(p, v, f, invocationId, executionId)}/logs`, {
      ...pick(o),
      query: { max_lines: o.maxLines, initial_offset: o.initialOffset },
    });
  }
  /**
   * Worker call: the execution's code has started.
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId @param {CallOptions} [o]
   */
  startExecution(p, v, f, invocationId, executionId, o) {
    return this.request('PUT', `${MultinodeClient.executionPath(p, v, f, invocationId, executionId)}/start`, pick(o));
  }
  /**
   * Worker call: the attempt is alive (no body; a function's heartbeat_timeout).
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId @param {CallOptions} [o]
   */
  heartbeatExecution(p, v, f, invocationId, executionId, o) {
    return this.request('PUT', `${MultinodeClient.executionPath(p, v, f, invocationId, executionId)}/heartbeat`, pick(o));
  }
  /**
   * Worker call: progress.
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId
   * @param {string} latestOutput @param {CallOptions} [o]
   */
  updateExecution(p, v, f, invocationId, executionId, latestOutput, o) {
    return this.request('PUT', `${MultinodeClient.executionPath(p, v, f, invocationId, executionId)}/update`, {
      ...pick(o),
      body: { latest_output: latestOutput },
    });
  }
  /**
   * Worker call: the outcome.
   * @param {string} p @param {string} v @param {string} f
   * @param {string} invocationId @param {string} executionId
   * @param {{ outcome: 'SUCCEEDED' | 'FAILED' | 'ABORTED', final_output?: string | null,
   *           error_message?: string | null }} result
   * @param {CallOptions} [o]
   */
  finishExecution(p, v, f, invocationId, executionId, result, o) {
    return this.request('PUT', `${MultinodeClient.executionPath(p, v, f, invocationId, executionId)}/finish`, {
      ...pick(o),
      body: result,
    });
  }
  /** @param {CallOptions} [o] */
  getContainerRepositoryCredentials(o) {
    return this.request('GET', '/container_repository_credentials', pick(o));
  }

  // -- the invocation API --------------------------------------------------

  /**
   * A deployed function of this control plane (see {@link getDeployedFunction}).
   *
   * @param {Omit<GetDeployedFunctionOptions, 'client'>} options
   * @returns {Promise<DeployedFunction>}
   */
  getDeployedFunction(options) {
    return getDeployedFunction({ ...options, client: this });
  }
}

/**
 * The additive fields of an InvocationDefinition (docs/compatibility.md,
 * "Task semantics"), checked as the daemon checks them so a bad value fails
 * before anything is sent.
 *
 * @param {{ priority?: number, concurrencyKey?: string, idempotencyKey?: string,
 *           startAt?: Date | number, delayMs?: number }} o
 * @returns {Record<string, unknown>}
 */
export function startFields(o) {
  /** @type {Record<string, unknown>} */
  const body = {};
  if (o.priority !== undefined) {
    if (!Number.isInteger(o.priority) || o.priority < -100 || o.priority > 100) {
      throw new InvalidUseError('priority must be an integer from -100 to 100');
    }
    body.priority = o.priority;
  }
  for (const [name, wire] of /** @type {const} */ ([
    ['concurrencyKey', 'concurrency_key'],
    ['idempotencyKey', 'idempotency_key'],
  ])) {
    const value = o[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length < 1 || value.length > 256) {
      throw new InvalidUseError(`${name} must be a string of 1 to 256 characters`);
    }
    body[wire] = value;
  }
  if (o.startAt !== undefined && o.delayMs !== undefined) {
    throw new InvalidUseError('give startAt or delayMs, not both');
  }
  /** @type {number | undefined} */
  let startAt;
  if (o.delayMs !== undefined) {
    if (typeof o.delayMs !== 'number' || !Number.isFinite(o.delayMs) || o.delayMs < 0) {
      throw new InvalidUseError('delayMs must be a number of milliseconds, 0 or more');
    }
    startAt = (Date.now() + o.delayMs) / 1000;
  } else if (o.startAt !== undefined) {
    startAt = o.startAt instanceof Date ? o.startAt.getTime() / 1000 : o.startAt;
    if (typeof startAt !== 'number' || !Number.isFinite(startAt) || startAt < 0) {
      throw new InvalidUseError('startAt must be a Date or unix seconds');
    }
  }
  if (startAt !== undefined) body.start_at = startAt;
  return body;
}

/**
 * Inside a running task: tell the control plane the attempt is alive
 * without storing progress (a function's `heartbeat_timeout`), as Python's
 * `multinode.heartbeat()` does.
 *
 * @param {{ client?: MultinodeClient, signal?: AbortSignal }} [options]
 * @returns {Promise<void>}
 * @throws {InvalidUseError} not inside a Multinode task
 */
export async function heartbeat(options = {}) {
  /** @type {string[]} */
  const ids = [];
  for (const name of [
    'MULTINODE_PROJECT_NAME',
    'MULTINODE_VERSION_ID',
    'MULTINODE_FUNCTION_NAME',
    'MULTINODE_INVOCATION_ID',
    'MULTINODE_EXECUTION_ID',
  ]) {
    const value = process.env[name];
    if (!value) throw new InvalidUseError(`${name} is not set: heartbeat() runs inside a task only`);
    ids.push(value);
  }
  const client = options.client ?? new MultinodeClient();
  const [p, v, f, i, e] = ids;
  await client.heartbeatExecution(p, v, f, i, e, { signal: options.signal });
}

/**
 * The running invocation when this process is a Multinode worker (its
 * children are started with it as their parent, as the Python client does).
 *
 * @returns {ParentInvocationDefinition | null}
 */
function parentFromEnv() {
  const functionName = process.env.MULTINODE_FUNCTION_NAME;
  const invocationId = process.env.MULTINODE_INVOCATION_ID;
  return functionName && invocationId
    ? { function_name: functionName, invocation_id: invocationId }
    : null;
}

/**
 * @typedef {object} GetDeployedFunctionOptions
 * @property {string} projectName
 * @property {string} functionName
 * @property {string | null} [versionId] a version id; default the newest version at this call
 * @property {boolean} [raw] inputs and outputs are strings, unchanged (command functions)
 * @property {MultinodeClient} [client] default: a client configured by {@link loadConfig}
 * @property {AbortSignal} [signal]
 */

/**
 * The function `functionName` of a deployed project, pinned to the concrete
 * version id the server resolved (later deployments do not change what it
 * invokes).
 *
 * @param {GetDeployedFunctionOptions} options
 * @returns {Promise<DeployedFunction>}
 * @throws {FunctionDoesNotExist} the version has no such function
 * @throws {import('./errors.js').ProjectDoesNotExist} from the server (also VersionDoesNotExist)
 */
export async function getDeployedFunction(options) {
  const { projectName, functionName } = options;
  const client = options.client ?? new MultinodeClient();
  const ref = options.versionId || LATEST_VERSION;
  const version = await client.getVersion(projectName, ref, { signal: options.signal });
  const functions = Array.isArray(version?.functions) ? version.functions : [];
  const info = functions.find((/** @type {any} */ f) => f?.function_name === functionName);
  if (!info) {
    throw new FunctionDoesNotExist(undefined, undefined, {
      message:
        `Function "${functionName}" does not exist on version ` +
        `"${version?.version_id ?? ref}" of project "${projectName}".`,
    });
  }
  return new DeployedFunction({
    client,
    projectName: version.project_name ?? projectName,
    versionId: version.version_id,
    functionName,
    info,
    raw: options.raw ?? false,
  });
}

/**
 * @typedef {object} StartOptions
 * @property {readonly unknown[]} [args] positional arguments
 * @property {Record<string, unknown>} [kwargs] keyword arguments (Python functions)
 * @property {string} [input] the input string, sent unchanged (instead of args/kwargs)
 * @property {boolean} [raw] override the function's raw mode for this call
 * @property {ParentInvocationDefinition | null} [parent] default: the running
 *   invocation when this process is a worker, else none
 * @property {AbortSignal} [signal]
 * @property {number} [priority] -100 to 100 (default 0): higher first, FIFO within a priority
 * @property {string} [concurrencyKey] at most max_concurrency_per_key attempts of one key at once
 * @property {string} [idempotencyKey] a second start with the same key returns the first id
 * @property {Date | number} [startAt] eligible only from this time (a Date or unix seconds)
 * @property {number} [delayMs] eligible only this many ms after the start (not with startAt)
 */

/**
 * @typedef {object} AwaitOptions
 * @property {AbortSignal} [signal]
 * @property {number} [timeoutMs] give up (AwaitResultTimeoutError) after this long
 * @property {boolean} [raw]
 * @property {number} [pollInitialMs] default 50
 * @property {number} [pollMaxMs] default 1000
 * @property {number} [pollGrowth] default 1.5
 * @property {number} [serverWaitSeconds] default 60 (0: off): ask the server to
 *   hold each GET up to N s (`?wait_seconds=N`) until the invocation finishes;
 *   a daemon without server-side waits answers at once, and polling goes on
 */

/** A deployed function, pinned to one version. */
export class DeployedFunction {
  /**
   * @param {{ client: MultinodeClient, projectName: string, versionId: string,
   *           functionName: string, info?: Record<string, any>, raw?: boolean }} fields
   */
  constructor(fields) {
    /** @type {MultinodeClient} */
    this.client = fields.client;
    /** @type {string} */
    this.projectName = fields.projectName;
    /** The concrete version id. @type {string} */
    this.versionId = fields.versionId;
    /** @type {string} */
    this.functionName = fields.functionName;
    /** The FunctionInfoForVersion the version listed. @type {Record<string, any>} */
    this.info = fields.info ?? {};
    /** Inputs and outputs are strings, unchanged. @type {boolean} */
    this.raw = fields.raw ?? false;
  }

  /**
   * Start an invocation with these arguments; its id.  The input sent is
   * `[{"py/tuple": args}, {}]` (jsonpickle of `[args, kwargs]`), or in raw
   * mode the one string argument unchanged.
   *
   * @param {...unknown} args
   * @returns {Promise<string>}
   */
  start(...args) {
    return this.startWith({ args });
  }

  /**
   * {@link start} with options: keyword arguments, a ready input string, a
   * parent, an AbortSignal.
   *
   * @param {StartOptions} [options]
   * @returns {Promise<string>}
   */
  async startWith(options = {}) {
    const raw = options.raw ?? this.raw;
    const args = options.args ?? [];
    /** @type {string} */
    let input;
    if (options.input !== undefined) {
      if (typeof options.input !== 'string') throw new InvalidUseError('input must be a string');
      input = options.input;
    } else if (raw) {
      if (args.length !== 1 || typeof args[0] !== 'string' || options.kwargs) {
        throw new InvalidUseError('in raw mode, start takes exactly one string argument');
      }
      input = args[0];
    } else {
      input = encodeInput(args, options.kwargs);
    }
    const n = pythonLength(input);
    if (n >= INPUT_LENGTH_LIMIT) {
      throw new FunctionInputSizeLimitExceeded(
        `Function input exceeds size limit: ${n} characters encoded ` +
          `(must be fewer than ${INPUT_LENGTH_LIMIT})`,
      );
    }
    const parent = options.parent === undefined ? parentFromEnv() : options.parent;
    /** @type {{ input: string, parent_invocation?: ParentInvocationDefinition, [field: string]: unknown }} */
    const body = { input, ...startFields(options) };
    if (parent) body.parent_invocation = parent;
    const info = await this.client.createInvocation(
      this.projectName,
      this.versionId,
      this.functionName,
      body,
      { signal: options.signal },
    );
    return String(info.invocation_id);
  }

  /**
   * The invocation's current state: status, result so far, error.
   *
   * @param {string} invocationId
   * @param {{ signal?: AbortSignal, raw?: boolean, waitSeconds?: number }} [options]
   * @returns {Promise<import('./status.js').Invocation>}
   */
  async get(invocationId, options = {}) {
    const info = await this.client.getInvocation(
      this.projectName,
      this.versionId,
      this.functionName,
      invocationId,
      { signal: options.signal, waitSeconds: options.waitSeconds },
    );
    return deriveInvocation(info, { raw: options.raw ?? this.raw });
  }

  /**
   * Request the invocation's cancellation (its descendants' too).
   *
   * @param {string} invocationId
   * @param {{ signal?: AbortSignal }} [options]
   * @returns {Promise<void>}
   */
  async cancel(invocationId, options = {}) {
    await this.client.cancelInvocation(
      this.projectName,
      this.versionId,
      this.functionName,
      invocationId,
      { signal: options.signal },
    );
  }

  /**
   * A page of invocation ids, newest first (the server's default page size, 50).
   *
   * @param {{ offset?: string | null, maxResults?: number,
   *           status?: 'RUNNING' | 'TERMINATED', signal?: AbortSignal }} [options]
   *   offset: the `nextOffset` of the previous page
   * @returns {Promise<{ invocationIds: string[], nextOffset: string | null }>}
   */
  async list(options = {}) {
    const page = await this.client.listInvocations(this.projectName, this.versionId, this.functionName, {
      initialOffset: options.offset,
      maxResults: options.maxResults,
      status: options.status,
      signal: options.signal,
    });
    const items = Array.isArray(page?.invocations) ? page.invocations : [];
    return {
      invocationIds: items.map((/** @type {any} */ i) => String(i.invocation_id)),
      nextOffset: page?.next_offset ?? null,
    };
  }

  /**
   * Wait until the invocation has finished; its result.  Each GET asks the
   * server to hold it until the invocation finishes (`?wait_seconds`, up to
   * 60 s): one request per minute of waiting.  A server that answers at once
   * is polled with a pause that starts at 50 ms and grows by half up to 1 s;
   * returns as soon as the status is SUCCEEDED.
   *
   * @param {string} invocationId
   * @param {AwaitOptions} [options]
   * @returns {Promise<unknown>}
   * @throws {InvocationFailedError} FAILED (the message is its error)
   * @throws {InvocationCancelledError} CANCELLED
   * @throws {InvocationTimedOutError} TIMED OUT
   * @throws {AwaitResultTimeoutError} `timeoutMs` passed first
   */
  async awaitResult(invocationId, options = {}) {
    const { signal, timeoutMs } = options;
    const growth = options.pollGrowth ?? POLL_GROWTH;
    const maxPause = options.pollMaxMs ?? POLL_MAX_MS;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    let pause = options.pollInitialMs ?? POLL_INITIAL_MS;
    const serverWait = Math.min(60, options.serverWaitSeconds ?? 60);
    let held = false;
    const heldGet = async () => {
      const left = deadline === undefined ? serverWait * 1000 : deadline - Date.now();
      const wait = Math.max(0, Math.floor(Math.min(serverWait * 1000, left) / 1000));
      const asked = Date.now();
      const inv = await this.get(invocationId, {
        signal,
        raw: options.raw,
        waitSeconds: wait || undefined,
      });
      // held for a while: the server waited, no pause needed
      held = wait > 0 && Date.now() - asked >= wait * 500;
      return inv;
    };
    let invocation = await heldGet();
    while (!invocation.finished) {
      if (deadline !== undefined) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new AwaitResultTimeoutError(
            `invocation ${invocationId} of ${this.functionName} has not finished after ` +
              `${timeoutMs} ms (status ${invocation.status})`,
          );
        }
        if (!held) await sleep(Math.min(pause, left), signal);
      } else if (!held) {
        await sleep(pause, signal);
      }
      if (!held) pause = Math.min(pause * growth, maxPause);
      invocation = await heldGet();
    }
    return resultOrThrow(invocation);
  }

  /**
   * Start an invocation and wait for its result.
   *
   * @param {...unknown} args
   * @returns {Promise<unknown>}
   */
  async callRemote(...args) {
    return this.awaitResult(await this.start(...args));
  }

  /**
   * One invocation per item (each the single argument), all started first;
   * the results in input order.
   *
   * @param {Iterable<unknown>} items
   * @returns {Promise<unknown[]>}
   */
  map(items) {
    return this.starmap(Array.from(items, (item) => [item]));
  }

  /**
   * One invocation per argument list, all started first; the results in input order.
   *
   * @param {Iterable<readonly unknown[]>} argLists
   * @returns {Promise<unknown[]>}
   */
  async starmap(argLists) {
    /** @type {string[]} */
    const ids = [];
    for (const args of argLists) ids.push(await this.start(...args));
    return Promise.all(ids.map((id) => this.awaitResult(id)));
  }

  toString() {
    return `DeployedFunction(${this.projectName}/${this.versionId}/${this.functionName})`;
  }
}

/**
 * @param {import('./status.js').Invocation} invocation
 * @returns {unknown}
 */
function resultOrThrow(invocation) {
  switch (invocation.status) {
    case 'FAILED':
      throw new InvocationFailedError(invocation.error ?? 'Invocation failed.', invocation);
    case 'CANCELLED':
      throw new InvocationCancelledError('Invocation was cancelled.', invocation);
    case 'TIMED OUT':
      throw new InvocationTimedOutError('Invocation timed out.', invocation);
    default:
      return invocation.result;
  }
}
