// @ts-check
/**
 * JSON over HTTP with the platform's fetch.
 *
 * - `Authorization: Bearer <key>`, JSON bodies in and out.
 * - A timeout on every call (connecting, sending, waiting, reading, retries
 *   included): 30 s, or MULTINODE_API_TIMEOUT seconds, or `timeoutMs`.
 * - An AbortSignal on every call; aborting rejects with the signal's reason
 *   (an `AbortError` DOMException unless the caller gave another reason).
 * - Retries (a few, with a short doubling pause) only when no answer was
 *   received: the connection could not be made (refused, unreachable), for
 *   every method; the connection broke before an answer, for GET, PUT and
 *   DELETE only, never for POST (an invocation must not start twice).  An
 *   HTTP answer, whatever its status, is never retried; neither is a timeout.
 *
 * An error answer throws the error {@link resolveError} rebuilds from its
 * status and `detail`.
 */
import { timeoutFromEnv } from './config.js';
import {
  ApiConnectionError,
  ApiTimeoutError,
  ConfigurationError,
  MultinodeApiError,
  resolveError,
} from './errors.js';
import { VERSION } from './version.js';

/** Error codes of a connection that could not be made: retried for every method. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Error codes of a connection that broke before the answer: retried for idempotent methods. */
const BROKEN_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * The error codes carried by a fetch failure (its causes, an AggregateError's members).
 *
 * @param {unknown} e
 * @returns {string[]}
 */
function errorCodes(e) {
  /** @type {string[]} */
  const codes = [];
  /** @type {unknown[]} */
  const todo = [e];
  for (let depth = 0; todo.length && depth < 16; depth++) {
    const x = /** @type {any} */ (todo.shift());
    if (!x || typeof x !== 'object') continue;
    if (typeof x.code === 'string') codes.push(x.code);
    if (x.cause) todo.push(x.cause);
    if (Array.isArray(x.errors)) todo.push(...x.errors);
  }
  return codes;
}

/**
 * @param {unknown} e
 * @param {string} method
 * @returns {boolean}
 */
export function isRetryable(e, method) {
  const codes = errorCodes(e);
  if (codes.some((c) => CONNECT_CODES.has(c))) return true;
  return IDEMPOTENT.has(method) && codes.some((c) => BROKEN_CODES.has(c));
}

/**
 * @param {unknown} e
 * @returns {string}
 */
function describe(e) {
  const codes = errorCodes(e);
  const cause = /** @type {any} */ (e)?.cause;
  const msg = cause?.message || /** @type {any} */ (e)?.message || String(e);
  return codes.length && !msg.includes(codes[0]) ? `${codes[0]}: ${msg}` : msg;
}

/**
 * A pause that an abort interrupts.
 *
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * @typedef {object} HttpOptions
 * @property {string} apiUrl `http[s]://host[:port][/prefix]`
 * @property {string | null} [apiKey] sent as `Authorization: Bearer <key>` (null: no header)
 * @property {number} [timeoutMs] per call; default MULTINODE_API_TIMEOUT seconds or 30 s
 * @property {number} [maxRetries] retries after a connection error (default 3)
 * @property {number} [retryDelayMs] the first pause between retries, doubling (default 100)
 * @property {typeof fetch} [fetch] the fetch to use (default the platform's)
 * @property {string} [userAgent]
 */

/**
 * @typedef {object} RequestOptions
 * @property {Record<string, string | number | boolean | null | undefined>} [query] undefined/null values are left out
 * @property {unknown} [body] a JSON-serialisable body (undefined: none)
 * @property {AbortSignal} [signal]
 * @property {number} [timeoutMs] this call's timeout instead of the client's
 */

/** One control plane, called with JSON requests. */
export class HttpClient {
  /** @param {HttpOptions} options */
  constructor(options) {
    const raw = String(options.apiUrl ?? '').trim();
    /** @type {URL} */
    let url;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigurationError(
        `invalid API URL ${JSON.stringify(raw)}: expected http://host[:port] or https://host[:port]`,
      );
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      throw new ConfigurationError(
        `invalid API URL ${JSON.stringify(raw)}: expected http://host[:port] or https://host[:port]`,
      );
    }
    /** The base URL, without a trailing slash. @type {string} */
    this.apiUrl = raw.replace(/\/+$/, '');
    /** @private */
    this._apiKey = options.apiKey ?? null;
    /** @type {number} */
    this.timeoutMs = options.timeoutMs ?? timeoutFromEnv();
    /** @type {number} */
    this.maxRetries = options.maxRetries ?? 3;
    /** @type {number} */
    this.retryDelayMs = options.retryDelayMs ?? 100;
    /** @private */
    this._fetch = options.fetch ?? globalThis.fetch;
    if (typeof this._fetch !== 'function') {
      throw new ConfigurationError('no fetch: use Node 18 or later, or pass options.fetch');
    }
    /** @private */
    this._userAgent = options.userAgent ?? `multinode-js/${VERSION}`;
  }

  /**
   * Send one request; the decoded JSON answer (null if empty).
   *
   * @param {string} method
   * @param {string} path already URL-encoded, starting with `/`
   * @param {RequestOptions} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, options = {}) {
    method = method.toUpperCase();
    const { signal } = options;
    let target = this.apiUrl + path;
    if (options.query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(options.query)) {
        if (v !== undefined && v !== null) params.append(k, String(v));
      }
      const qs = params.toString();
      if (qs) target += `?${qs}`;
    }
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json', 'User-Agent': this._userAgent };
    if (this._apiKey !== null) headers.Authorization = `Bearer ${this._apiKey}`;
    /** @type {string | undefined} */
    let payload;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    } else if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      payload = '';
    }
    const limit = options.timeoutMs ?? this.timeoutMs;
    const deadline = Date.now() + limit;
    const what = `${method} ${this.apiUrl}${path}`;

    for (let retries = 0; ; retries++) {
      signal?.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) throw new ApiTimeoutError(`${what}: no answer within ${limit / 1000} s`);
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), left);
      const onAbort = () => ctrl.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let status;
      let statusText;
      let text;
      try {
        const res = await this._fetch(target, {
          method,
          headers,
          body: payload,
          signal: ctrl.signal,
        });
        status = res.status;
        statusText = res.statusText;
        text = await res.text();
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (ctrl.signal.aborted) {
          throw new ApiTimeoutError(`${what}: no answer within ${limit / 1000} s`, { cause: e });
        }
        if (!isRetryable(e, method)) {
          throw new ApiConnectionError(`${what}: the connection failed: ${describe(e)}`, {
            cause: e,
          });
        }
        if (retries >= this.maxRetries) {
          throw new ApiConnectionError(`${what}: cannot reach the control plane: ${describe(e)}`, {
            cause: e,
          });
        }
        const pause = this.retryDelayMs * 2 ** retries;
        if (Date.now() + pause >= deadline) {
          throw new ApiTimeoutError(
            `${what}: no answer within ${limit / 1000} s (last error: ${describe(e)})`,
            { cause: e },
          );
        }
        await sleep(pause, signal);
        continue;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      return decodeAnswer(status, statusText, text);
    }
  }
}

/**
 * @param {number} status
 * @param {string} statusText
 * @param {string} text
 * @returns {any}
 */
export function decodeAnswer(status, statusText, text) {
  if (status >= 200 && status < 300) {
    if (!text.trim()) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new MultinodeApiError(
        `the control plane's answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
        status,
      );
    }
  }
  /** @type {unknown} */
  let detail;
  /** @type {any} */
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'detail' in doc) detail = doc.detail;
  else detail = text.trim().slice(0, 1000) || statusText || `HTTP ${status}`;
  throw resolveError(status, detail);
}
