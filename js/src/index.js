// @ts-check
/**
 * multinode: start, watch and cancel Multinode tasks from JavaScript.
 *
 * ```js
 * import { getDeployedFunction } from 'multinode';
 * const task = await getDeployedFunction({ projectName: 'my_project', functionName: 'run_expensive_task' });
 * const id = await task.start(10000);
 * const { status, result, error } = await task.get(id);
 * const value = await task.awaitResult(id);
 * ```
 */
export * from './errors.js';
export { DEFAULT_API_URL, DEFAULT_TIMEOUT_MS, configFilePath, loadConfig, loadConfigFile } from './config.js';
export { HttpClient } from './http.js';
export { INPUT_LENGTH_LIMIT, decodeOutput, encodeInput, unpickle } from './serialization.js';
export { Invocation, InvocationStatus, deriveInvocation, deriveStatus, isFinished } from './status.js';
export {
  DeployedFunction,
  LATEST_VERSION,
  MultinodeClient,
  POLL_GROWTH,
  POLL_INITIAL_MS,
  POLL_MAX_MS,
  getDeployedFunction,
  heartbeat,
  startFields,
} from './client.js';
export { VERSION } from './version.js';
