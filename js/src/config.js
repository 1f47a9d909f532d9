// @ts-check
/**
 * Where the client finds the control plane and its API key: the same sources,
 * read the same way, as the C CLI and the Python package.
 *
 * MULTINODE_API_URL and MULTINODE_API_KEY win (an empty value counts as
 * unset); otherwise ~/.multinode/config.json ({"api_url", "api_key"}, what
 * `multinode login` writes); the URL defaults to http://127.0.0.1:5000.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ConfigurationError, MissingConfigurationError } from './errors.js';

/** The URL used when neither the environment nor the config file names one. */
export const DEFAULT_API_URL = 'http://127.0.0.1:5000';

/** The call timeout when MULTINODE_API_TIMEOUT is not set. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * @typedef {{ [name: string]: string | undefined }} Env
 */

/**
 * ~/.multinode/config.json ($HOME is read at each call).
 *
 * @param {Env} [env]
 * @returns {string}
 */
export function configFilePath(env = process.env) {
  const home = env.HOME || homedir();
  return join(home, '.multinode', 'config.json');
}

/**
 * The `api_url` and `api_key` of the config file (undefined for what it
 * lacks, both when the file does not exist).
 *
 * @param {string} [path]
 * @returns {{ apiUrl?: string, apiKey?: string }}
 * @throws {ConfigurationError} the file is not a JSON object of strings
 */
export function loadConfigFile(path = configFilePath()) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return {};
    throw new ConfigurationError(`${path}: cannot read: ${err.message}`, { cause: e });
  }
  /** @type {unknown} */
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigurationError(`${path}: not valid JSON: ${/** @type {Error} */ (e).message}`, {
      cause: e,
    });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigurationError(`${path}: must hold a JSON object`);
  }
  const obj = /** @type {Record<string, unknown>} */ (doc);
  /** @type {{ apiUrl?: string, apiKey?: string }} */
  const out = {};
  for (const [key, field] of /** @type {const} */ ([
    ['api_url', 'apiUrl'],
    ['api_key', 'apiKey'],
  ])) {
    const value = obj[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new ConfigurationError(`${path}: ${key}: must be a string`);
    if (value) out[field] = value;
  }
  return out;
}

/**
 * The configuration: what `given` holds, then the environment, then the
 * config file (read only when something is still missing).
 *
 * @param {Env} [env]
 * @param {{ apiUrl?: string, apiKey?: string | null }} [given] an explicit
 *   apiKey of null means "send no key"
 * @returns {{ apiUrl: string, apiKey: string | null }}
 * @throws {MissingConfigurationError} no API key anywhere
 * @throws {ConfigurationError} the config file is needed and malformed
 */
export function loadConfig(env = process.env, given = {}) {
  let apiUrl = given.apiUrl || env.MULTINODE_API_URL || undefined;
  let apiKey = given.apiKey !== undefined ? given.apiKey : env.MULTINODE_API_KEY || undefined;
  if (apiUrl === undefined || apiKey === undefined) {
    const fromFile = loadConfigFile(configFilePath(env));
    apiUrl = apiUrl ?? fromFile.apiUrl;
    apiKey = apiKey === undefined ? fromFile.apiKey : apiKey;
  }
  if (apiKey === undefined) {
    throw new MissingConfigurationError(
      'No Multinode API key found: set the MULTINODE_API_KEY environment variable ' +
        `(and MULTINODE_API_URL), or run \`multinode login\` to save them in ${configFilePath(env)}.`,
    );
  }
  return { apiUrl: apiUrl ?? DEFAULT_API_URL, apiKey };
}

/**
 * MULTINODE_API_TIMEOUT (seconds) as milliseconds, or the default (30 s).
 *
 * @param {Env} [env]
 * @returns {number}
 * @throws {ConfigurationError} the variable is set but not a positive number
 */
export function timeoutFromEnv(env = process.env) {
  const raw = (env.MULTINODE_API_TIMEOUT ?? '').trim();
  if (!raw) return DEFAULT_TIMEOUT_MS;
  const value = Number(raw);
  if (!(value > 0 && Number.isFinite(value))) {
    throw new ConfigurationError(
      `MULTINODE_API_TIMEOUT=${JSON.stringify(raw)}: expected a positive number of seconds`,
    );
  }
  return value * 1000;
}
