// @ts-check
/**
 * An invocation's status as the caller sees it, derived from its
 * InvocationInfo (docs/compatibility.md §6.4) by the same rules, and checked against the
 * same table (tests/data/status/derived_status.json), as the C and Python
 * clients.
 *
 * The server knows only RUNNING and TERMINATED; the richer statuses come from
 * the invocation's executions.
 */
import { decodeOutput } from './serialization.js';

/**
 * The derived statuses; each value is the original's string (TIMED_OUT is
 * `"TIMED OUT"`, with a space).
 */
export const InvocationStatus = Object.freeze({
  SUCCEEDED: 'SUCCEEDED',
  CANCELLED: 'CANCELLED',
  CANCELLING: 'CANCELLING',
  TIMED_OUT: 'TIMED OUT',
  RUNNING: 'RUNNING',
  PENDING: 'PENDING',
  FAILED: 'FAILED',
});

/** @typedef {typeof InvocationStatus[keyof typeof InvocationStatus]} InvocationStatusValue */

const FINISHED = new Set(['SUCCEEDED', 'CANCELLED', 'TIMED OUT', 'FAILED']);

/**
 * SUCCEEDED, CANCELLED, TIMED OUT or FAILED: the status will not change.
 *
 * @param {string} status
 * @returns {boolean}
 */
export function isFinished(status) {
  return FINISHED.has(status);
}

/** What a caller knows about an invocation. */
export class Invocation {
  /**
   * @param {{ invocationId: string, status: InvocationStatusValue, result: unknown,
   *           error: string | null, terminated: boolean, numFailedAttempts: number,
   *           info: Record<string, any> }} fields
   */
  constructor(fields) {
    /** @type {string} */
    this.invocationId = fields.invocationId;
    /** @type {InvocationStatusValue} */
    this.status = fields.status;
    /** The decoded output of the most recently updated execution (a Python
     * generator's latest progress while RUNNING), or null. @type {unknown} */
    this.result = fields.result;
    /** That execution's error message, or null. @type {string | null} */
    this.error = fields.error;
    /** The server has ended the invocation (its status is TERMINATED). @type {boolean} */
    this.terminated = fields.terminated;
    /** How many executions failed. @type {number} */
    this.numFailedAttempts = fields.numFailedAttempts;
    /** The InvocationInfo this was derived from. @type {Record<string, any>} */
    this.info = fields.info;
  }

  /** The status will not change any more. */
  get finished() {
    return isFinished(this.status);
  }

  /**
   * Text such as "(FAILED, 2 failed attempts)" or "(SUCCEEDED - terminating)",
   * as the Python package writes it.
   *
   * @returns {string}
   */
  readableStatus() {
    let text = this.status;
    if (this.finished && !this.terminated) text += ' - terminating';
    const n = this.numFailedAttempts;
    if (n > 0) {
      const plural = n === 1 ? '' : 's';
      if (this.status === 'FAILED') text += `, ${n} failed attempt${plural}`;
      else if (this.status === 'PENDING' || this.status === 'RUNNING') {
        text += `, ${n} previous failed attempt${plural}`;
      }
    }
    return `(${text})`;
  }

  /** A JSON view (without `info`). */
  toJSON() {
    return {
      invocationId: this.invocationId,
      status: this.status,
      result: this.result,
      error: this.error,
      terminated: this.terminated,
      numFailedAttempts: this.numFailedAttempts,
    };
  }
}

/**
 * @param {unknown} v
 * @returns {boolean}
 */
const present = (v) => v !== undefined && v !== null;

/**
 * @param {unknown} v
 * @returns {number}
 */
function int(v) {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** @param {Record<string, any>} e */
const terminatedWithoutOutcome = (e) => e.worker_status === 'TERMINATED' && !present(e.outcome);
/** @param {Record<string, any>} e */
const signalledBeforeStart = (e) =>
  present(e.termination_signal_time) && !present(e.execution_start_time);
/** @param {Record<string, any>} e */
const isSuccessful = (e) => e.outcome === 'SUCCEEDED';
/** ABORTED, or signalled (cancellation, timeout) before its code started.
 * @param {Record<string, any>} e */
const isAborted = (e) =>
  e.outcome === 'ABORTED' || (terminatedWithoutOutcome(e) && signalledBeforeStart(e));
/** FAILED, or ended without an outcome (crash, killed after the grace period).
 * @param {Record<string, any>} e */
const isFailed = (e) =>
  e.outcome === 'FAILED' || (terminatedWithoutOutcome(e) && !signalledBeforeStart(e));

/**
 * The execution with the largest last_update_time; on a tie the later one in
 * the list.  When every execution carries the daemon's microsecond twin
 * `last_update_time_us`, that finer time decides instead.
 *
 * @param {Record<string, any>[]} executions
 * @returns {Record<string, any> | undefined}
 */
function latestExecution(executions) {
  if (executions.length === 0) return undefined;
  const useUs = executions.every((e) => Number.isInteger(e.last_update_time_us));
  const field = useUs ? 'last_update_time_us' : 'last_update_time';
  /** @param {Record<string, any>} e */
  const key = (e) => (present(e[field]) ? Number(e[field]) : -Infinity);
  let best = executions[0];
  let bestKey = key(best);
  for (const e of executions.slice(1)) {
    const k = key(e);
    if (k >= bestKey) {
      best = e;
      bestKey = k;
    }
  }
  return best;
}

/**
 * The status alone (rules 1-9 of docs/compatibility.md §6.4; the first that matches wins).
 *
 * @param {Record<string, any>} info an InvocationInfo
 * @returns {InvocationStatusValue}
 */
export function deriveStatus(info) {
  return deriveInvocation(info, { raw: true }).status;
}

/**
 * Derive an {@link Invocation} from an InvocationInfo document (a pure
 * function of `info`).
 *
 *  1. an execution SUCCEEDED → SUCCEEDED;
 *  2. an aborted execution got its signal after the deadline → TIMED OUT;
 *  3. another aborted execution → CANCELLED;
 *  4. failed executions == max_retries + 1 → FAILED (also while RUNNING);
 *  5. TERMINATED and last_update_time > creation_time + timeout → TIMED OUT;
 *  6. TERMINATED → CANCELLED;
 *  7. a cancellation was requested → CANCELLING;
 *  8. an execution is RUNNING, has started and has no outcome → RUNNING;
 *  9. otherwise PENDING.
 *
 * @param {Record<string, any>} info
 * @param {{ raw?: boolean }} [options] raw: `result` is the output string unchanged
 * @returns {Invocation}
 */
export function deriveInvocation(info, options = {}) {
  /** @type {Record<string, any>[]} */
  const executions = Array.isArray(info.executions) ? info.executions : [];
  const spec = info.execution_spec ?? {};
  const maxRetries = int(spec.max_retries);
  // additive: timeout_seconds counts from a delayed start (start_at)
  const base = Math.max(int(info.creation_time), present(info.start_at) ? Math.floor(Number(info.start_at)) : 0);
  const deadline = base + int(spec.timeout_seconds);
  const terminated = info.invocation_status === 'TERMINATED';
  const numFailed = executions.filter(isFailed).length;

  /** @type {InvocationStatusValue} */
  let status;
  const aborted = executions.filter(isAborted);
  if (executions.some(isSuccessful)) status = 'SUCCEEDED';
  else if (aborted.some((e) => present(e.termination_signal_time) && int(e.termination_signal_time) > deadline)) {
    status = 'TIMED OUT';
  } else if (aborted.length > 0) status = 'CANCELLED';
  else if (numFailed === maxRetries + 1) status = 'FAILED';
  else if (terminated && info.termination_reason === 'QUEUE_TIMEOUT') status = 'TIMED OUT';
  else if (terminated && int(info.last_update_time) > deadline) status = 'TIMED OUT';
  else if (terminated) status = 'CANCELLED';
  else if (present(info.cancellation_request_time)) status = 'CANCELLING';
  else if (
    executions.some(
      (e) => e.worker_status === 'RUNNING' && present(e.execution_start_time) && !present(e.outcome),
    )
  ) {
    status = 'RUNNING';
  } else status = 'PENDING';

  const latest = latestExecution(executions);
  const output = latest?.output;
  let result = null;
  if (present(output)) result = options.raw ? output : decodeOutput(output);
  return new Invocation({
    invocationId: info.invocation_id,
    status,
    result,
    error: latest?.error_message ?? null,
    terminated,
    numFailedAttempts: numFailed,
    info,
  });
}
