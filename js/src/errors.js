// @ts-check
/**
 * The errors the client throws.
 *
 * Every error of this package extends {@link MultinodeError}.  An error answer
 * of the control plane becomes a {@link MultinodeApiError}: the class of the
 * catalogue (docs/compatibility.md §2.2) whose status AND detail string both match the
 * answer, else a plain MultinodeApiError carrying that status and detail.
 * The other classes are raised by the client itself.
 */

/** The base class of every error this package throws. */
export class MultinodeError extends Error {
  /**
   * @param {string} [message]
   * @param {{ cause?: unknown }} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * @param {unknown} detail
 * @returns {string}
 */
function detailText(detail) {
  if (typeof detail === 'string') return detail;
  try {
    return JSON.stringify(detail) ?? String(detail);
  } catch {
    return String(detail);
  }
}

/** An error answer of the control plane (or one the client reports as such). */
export class MultinodeApiError extends MultinodeError {
  /** The status code of this error in the catalogue (subclasses). @type {number | undefined} */
  static STATUS = undefined;
  /** The exact `detail` of this error in the catalogue (subclasses). @type {string | undefined} */
  static DETAIL = undefined;

  /**
   * Both arguments default to the class's catalogue entry.
   *
   * @param {unknown} [detail] the answer's `detail`: a string, or for 422 the list the server sent
   * @param {number} [status] the HTTP status code
   * @param {{ message?: string, cause?: unknown }} [options]
   */
  constructor(detail, status, options) {
    const cls = /** @type {typeof MultinodeApiError} */ (new.target);
    const d = detail === undefined || detail === null ? cls.DETAIL : detail;
    const s = status === undefined || status === null ? cls.STATUS : status;
    const generic = cls === MultinodeApiError;
    const text = detailText(d);
    super(options?.message ?? (generic && s !== undefined ? `HTTP ${s}: ${text}` : text), {
      cause: options?.cause,
    });
    /** The HTTP status code (undefined when the client raised it without one). @type {number | undefined} */
    this.status = s;
    /** The answer's `detail`. @type {unknown} */
    this.detail = d;
  }
}

/**
 * A catalogue class.  The classes are written out one by one so that each is
 * a named export with its own type.
 */
export class ApiKeyIsInvalid extends MultinodeApiError {
  static STATUS = 403;
  static DETAIL = 'The API key is invalid';
}
export class OffsetIsInvalid extends MultinodeApiError {
  static STATUS = 400;
  static DETAIL = 'The next offset is in an invalid format';
}
export class ParentFunctionNameIsMissing extends MultinodeApiError {
  static STATUS = 400;
  static DETAIL = 'The parent function name is missing';
}
export class ProjectNameIsTooLong extends MultinodeApiError {
  static STATUS = 400;
  static DETAIL = 'The project name is too long';
}
export class ProjectIsBeingDeleted extends MultinodeApiError {
  static STATUS = 400;
  static DETAIL = 'The project is being deleted';
}
export class ParentInvocationIdIsMissing extends MultinodeApiError {
  static STATUS = 400;
  static DETAIL = 'The parent invocation ID is missing';
}
export class ExecutionAlreadyExists extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'An execution with this ID already exists for this invocation';
}
export class ExecutionDoesNotExist extends MultinodeApiError {
  static STATUS = 404;
  static DETAIL = 'An execution with this ID does not exist for this invocation';
}
export class ExecutionHasAlreadyStarted extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'This execution has already started';
}
export class ExecutionHasNotStarted extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'This execution has not yet started';
}
export class ExecutionHasAlreadyFinished extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'This execution has already finished';
}
export class ExecutionHasNotFinished extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'This execution has not yet finished';
}
export class ExecutionIsAlreadyTerminated extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'This execution has already terminated';
}
export class InvocationAlreadyExists extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'An invocation with this ID already exists for this function';
}
export class InvocationDoesNotExist extends MultinodeApiError {
  static STATUS = 404;
  static DETAIL = 'An invocation with this ID does not exist for this function';
}
export class InvocationIsAlreadyTerminated extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'This invocation has already terminated';
}
export class ParentInvocationDoesNotExist extends MultinodeApiError {
  static STATUS = 400;
  static DETAIL = 'The ID of the parent invocation is invalid';
}
export class FunctionAlreadyExists extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'A function with this name already exists for this project version';
}
export class FunctionDoesNotExist extends MultinodeApiError {
  static STATUS = 404;
  static DETAIL = 'A function with this name does not exist for this project version';
}
export class VersionAlreadyExists extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'A version with this ID already exists for this project';
}
export class VersionDoesNotExist extends MultinodeApiError {
  static STATUS = 404;
  static DETAIL = 'A version with this ID does not exist for this project';
}
export class ProjectAlreadyExists extends MultinodeApiError {
  static STATUS = 409;
  static DETAIL = 'A project with this name already exists.';
}
export class ProjectDoesNotExist extends MultinodeApiError {
  static STATUS = 404;
  static DETAIL = 'A project with this name does not exist';
}

/** Every catalogued class, in the order of the table of docs/compatibility.md §2.2. */
export const ERROR_TYPES = Object.freeze([
  ApiKeyIsInvalid,
  OffsetIsInvalid,
  ParentFunctionNameIsMissing,
  ProjectNameIsTooLong,
  ProjectIsBeingDeleted,
  ParentInvocationIdIsMissing,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionHasAlreadyStarted,
  ExecutionHasNotStarted,
  ExecutionHasAlreadyFinished,
  ExecutionHasNotFinished,
  ExecutionIsAlreadyTerminated,
  InvocationAlreadyExists,
  InvocationDoesNotExist,
  InvocationIsAlreadyTerminated,
  ParentInvocationDoesNotExist,
  FunctionAlreadyExists,
  FunctionDoesNotExist,
  VersionAlreadyExists,
  VersionDoesNotExist,
  ProjectAlreadyExists,
  ProjectDoesNotExist,
]);

/** @type {Map<string, typeof MultinodeApiError>} */
const BY_STATUS_AND_DETAIL = new Map(ERROR_TYPES.map((cls) => [`${cls.STATUS} ${cls.DETAIL}`, cls]));

/**
 * The error for an error answer: the catalogued class whose status and detail
 * both match, else a plain {@link MultinodeApiError} with that status and detail.
 *
 * @param {number} status
 * @param {unknown} detail
 * @returns {MultinodeApiError}
 */
export function resolveError(status, detail) {
  if (typeof detail === 'string') {
    const cls = BY_STATUS_AND_DETAIL.get(`${status} ${detail}`);
    if (cls) return new cls(detail, status);
  }
  return new MultinodeApiError(detail, status);
}

// ---- errors raised by the client itself --------------------------------

/** No API key was found in the environment or in ~/.multinode/config.json. */
export class MissingConfigurationError extends MultinodeError {}

/** The configuration (config file, MULTINODE_API_TIMEOUT, an URL) is malformed. */
export class ConfigurationError extends MultinodeError {}

/** The control plane could not be reached (after the retries), or the
 * connection broke while it answered. */
export class ApiConnectionError extends MultinodeError {}

/** An API call took longer than its timeout (MULTINODE_API_TIMEOUT, default 30 s). */
export class ApiTimeoutError extends MultinodeError {}

/** The base of the three errors awaitResult throws for an invocation that
 * finished without success. */
export class InvocationError extends MultinodeError {
  /**
   * @param {string} message
   * @param {import('./status.js').Invocation} [invocation]
   */
  constructor(message, invocation) {
    super(message);
    /** What the last GET saw. @type {import('./status.js').Invocation | undefined} */
    this.invocation = invocation;
  }
}

/** The awaited invocation FAILED; the message is its last error message. */
export class InvocationFailedError extends InvocationError {}

/** The awaited invocation was CANCELLED. */
export class InvocationCancelledError extends InvocationError {}

/** The awaited invocation TIMED OUT. */
export class InvocationTimedOutError extends InvocationError {}

/** awaitResult's own `timeoutMs` passed before the invocation finished (the
 * invocation goes on). */
export class AwaitResultTimeoutError extends MultinodeError {}

/** The encoded input has 250000 characters or more. */
export class FunctionInputSizeLimitExceeded extends MultinodeError {}

/** The package was used in a way it does not support (e.g. raw mode with
 * several arguments). */
export class InvalidUseError extends MultinodeError {}
