// Types of the `multinode` package (hand-written; the JavaScript sources
// carry the same types as JSDoc and are checked against them by
// test/types.test.js).

// ---------------------------------------------------------------- errors

/** The base class of every error this package throws. */
export class MultinodeError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
}

/**
 * An error answer of the control plane.  Rebuilt from status + `detail`: the
 * catalogue class whose status and detail both match, else this class.
 */
export class MultinodeApiError extends MultinodeError {
  /** The status code of this error in the catalogue (subclasses). */
  static readonly STATUS: number | undefined;
  /** The exact `detail` of this error in the catalogue (subclasses). */
  static readonly DETAIL: string | undefined;
  /** Both default to the class's catalogue entry. */
  constructor(detail?: unknown, status?: number, options?: { message?: string; cause?: unknown });
  /** The HTTP status code. */
  readonly status: number | undefined;
  /** The answer's `detail`: a string, or for a 422 the list the server sent. */
  readonly detail: unknown;
}

export class ApiKeyIsInvalid extends MultinodeApiError {}
export class OffsetIsInvalid extends MultinodeApiError {}
export class ParentFunctionNameIsMissing extends MultinodeApiError {}
export class ProjectNameIsTooLong extends MultinodeApiError {}
export class ProjectIsBeingDeleted extends MultinodeApiError {}
export class ParentInvocationIdIsMissing extends MultinodeApiError {}
export class ExecutionAlreadyExists extends MultinodeApiError {}
export class ExecutionDoesNotExist extends MultinodeApiError {}
export class ExecutionHasAlreadyStarted extends MultinodeApiError {}
export class ExecutionHasNotStarted extends MultinodeApiError {}
export class ExecutionHasAlreadyFinished extends MultinodeApiError {}
export class ExecutionHasNotFinished extends MultinodeApiError {}
export class ExecutionIsAlreadyTerminated extends MultinodeApiError {}
export class InvocationAlreadyExists extends MultinodeApiError {}
export class InvocationDoesNotExist extends MultinodeApiError {}
export class InvocationIsAlreadyTerminated extends MultinodeApiError {}
export class ParentInvocationDoesNotExist extends MultinodeApiError {}
export class FunctionAlreadyExists extends MultinodeApiError {}
export class FunctionDoesNotExist extends MultinodeApiError {}
export class VersionAlreadyExists extends MultinodeApiError {}
export class VersionDoesNotExist extends MultinodeApiError {}
export class ProjectAlreadyExists extends MultinodeApiError {}
export class ProjectDoesNotExist extends MultinodeApiError {}

/** Every catalogued class, in the order of the table of docs/compatibility.md §2.2. */
export const ERROR_TYPES: ReadonlyArray<typeof MultinodeApiError>;

/** The error for an error answer (status + detail). */
export function resolveError(status: number, detail: unknown): MultinodeApiError;

/** No API key in the environment or in ~/.multinode/config.json. */
export class MissingConfigurationError extends MultinodeError {}
/** The configuration (config file, MULTINODE_API_TIMEOUT, the URL) is malformed. */
export class ConfigurationError extends MultinodeError {}
/** The control plane could not be reached (after the retries). */
export class ApiConnectionError extends MultinodeError {}
/** An API call took longer than its timeout. */
export class ApiTimeoutError extends MultinodeError {}
/** The base of the errors awaitResult throws for an invocation that did not succeed. */
export class InvocationError extends MultinodeError {
  constructor(message: string, invocation?: Invocation);
  /** What the last GET saw. */
  readonly invocation: Invocation | undefined;
}
/** The awaited invocation FAILED; the message is its last error message. */
export class InvocationFailedError extends InvocationError {}
/** The awaited invocation was CANCELLED. */
export class InvocationCancelledError extends InvocationError {}
/** The awaited invocation TIMED OUT. */
export class InvocationTimedOutError extends InvocationError {}
/** awaitResult's `timeoutMs` passed first (the invocation goes on). */
export class AwaitResultTimeoutError extends MultinodeError {}
/** The encoded input has 250000 characters or more. */
export class FunctionInputSizeLimitExceeded extends MultinodeError {}
/** The package was used in a way it does not support. */
export class InvalidUseError extends MultinodeError {}

// ---------------------------------------------------------------- config

export const DEFAULT_API_URL: string;
export const DEFAULT_TIMEOUT_MS: number;
export type Env = { [name: string]: string | undefined };
/** ~/.multinode/config.json. */
export function configFilePath(env?: Env): string;
/** The api_url and api_key of the config file. */
export function loadConfigFile(path?: string): { apiUrl?: string; apiKey?: string };
/** `given`, then MULTINODE_API_URL / MULTINODE_API_KEY, then the config file. */
export function loadConfig(
  env?: Env,
  given?: { apiUrl?: string; apiKey?: string | null },
): { apiUrl: string; apiKey: string | null };

// ---------------------------------------------------------------- wire shapes

export type FunctionStatus = 'PENDING' | 'READY';
export type ServerInvocationStatus = 'RUNNING' | 'TERMINATED';
export type WorkerStatus = 'PENDING' | 'PROVISIONING' | 'RUNNING' | 'TERMINATED';
export type ExecutionOutcome = 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface ResourceSpec {
  virtual_cpus: number;
  memory_gbs: number;
  max_concurrency: number;
  [field: string]: unknown;
}
export interface ExecutionSpec {
  max_retries: number;
  timeout_seconds: number;
  [field: string]: unknown;
}
export interface ProjectInfo {
  project_name: string;
  deletion_request_time: number | null;
  creation_time: number;
  [field: string]: unknown;
}
export interface ProjectsList {
  projects: ProjectInfo[];
}
export interface FunctionSpec {
  function_name: string;
  docker_image_override?: string | null;
  resource_spec: ResourceSpec;
  execution_spec: ExecutionSpec;
  /** This daemon: an argv list the local provider runs. */
  command?: string[];
  provider?: string;
  env?: Record<string, string>;
  [field: string]: unknown;
}
export interface VersionDefinition {
  default_docker_image: string;
  functions: FunctionSpec[];
}
export interface FunctionInfoForVersion {
  function_name: string;
  docker_image: string;
  resource_spec: ResourceSpec;
  execution_spec: ExecutionSpec;
  function_status: FunctionStatus;
  prepared_function_details: Record<string, unknown> | null;
  [field: string]: unknown;
}
export interface VersionInfo {
  project_name: string;
  version_id: string;
  creation_time: number;
  functions: FunctionInfoForVersion[];
  [field: string]: unknown;
}
export interface VersionsListForProject {
  project_name: string;
  versions: { version_id: string; creation_time: number }[];
}
export interface ParentInvocationDefinition {
  function_name: string;
  invocation_id: string;
}
export interface InvocationDefinition {
  input: string;
  parent_invocation?: ParentInvocationDefinition | null;
  [field: string]: unknown;
}
export interface ExecutionSummary {
  execution_id: string;
  worker_status: WorkerStatus;
  worker_details: Record<string, unknown> | null;
  termination_signal_time: number | null;
  outcome: ExecutionOutcome | null;
  output: string | null;
  error_message: string | null;
  creation_time: number;
  last_update_time: number;
  execution_start_time: number | null;
  execution_finish_time: number | null;
  [field: string]: unknown;
}
export interface InvocationInfo {
  project_name: string;
  version_id: string;
  function_name: string;
  invocation_id: string;
  parent_invocation: (ParentInvocationDefinition & Record<string, unknown>) | null;
  resource_spec: ResourceSpec;
  execution_spec: ExecutionSpec;
  function_status: FunctionStatus;
  prepared_function_details: Record<string, unknown> | null;
  input: string;
  cancellation_request_time: number | null;
  invocation_status: ServerInvocationStatus;
  creation_time: number;
  last_update_time: number;
  executions: ExecutionSummary[];
  [field: string]: unknown;
}
export interface InvocationsListForFunction {
  project_name: string;
  version_id: string;
  function_name: string;
  invocations: {
    invocation_id: string;
    parent_invocation: ParentInvocationDefinition | null;
    cancellation_request_time: number | null;
    invocation_status: ServerInvocationStatus;
    creation_time: number;
    last_update_time: number;
  }[];
  next_offset: string | null;
}
export interface ExecutionInfo extends ExecutionSummary {
  project_name: string;
  version_id: string;
  function_name: string;
  invocation_id: string;
  input: string;
  cancellation_request_time: number | null;
  invocation_creation_time: number;
}
export interface ExecutionLogs {
  project_name: string;
  version_id: string;
  function_name: string;
  invocation_id: string;
  execution_id: string;
  log_lines: string[];
  next_offset: string | null;
}
export interface ExecutionFinalResultPayload {
  outcome: ExecutionOutcome;
  final_output?: string | null;
  error_message?: string | null;
}

// ---------------------------------------------------------------- transport

export interface HttpOptions {
  /** `http[s]://host[:port][/prefix]`. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer <key>`; null: no header. */
  apiKey?: string | null;
  /** Per call; default MULTINODE_API_TIMEOUT seconds, or 30 s. */
  timeoutMs?: number;
  /** Retries after a connection error, never after an answer (default 3). */
  maxRetries?: number;
  /** The first pause between retries, doubling (default 100 ms). */
  retryDelayMs?: number;
  /** The fetch to use (default the platform's). */
  fetch?: typeof fetch;
  userAgent?: string;
}
export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
}
export class HttpClient {
  constructor(options: HttpOptions);
  readonly apiUrl: string;
  timeoutMs: number;
  maxRetries: number;
  retryDelayMs: number;
  request(method: string, path: string, options?: RequestOptions): Promise<any>;
}

// ---------------------------------------------------------------- serialization

export const INPUT_LENGTH_LIMIT: number;
/** `jsonpickle.encode([args, kwargs])`: `[{"py/tuple": args}, kwargs]`. */
export function encodeInput(args: readonly unknown[], kwargs?: Readonly<Record<string, unknown>>): string;
/** An execution's output: jsonpickle JSON decoded, other text unchanged. */
export function decodeOutput(text: string | null | undefined): unknown;
/** jsonpickle's tags of parsed JSON (py/tuple, py/set → arrays; py/id resolved). */
export function unpickle(doc: unknown): unknown;

// ---------------------------------------------------------------- status

export const InvocationStatus: Readonly<{
  SUCCEEDED: 'SUCCEEDED';
  CANCELLED: 'CANCELLED';
  CANCELLING: 'CANCELLING';
  TIMED_OUT: 'TIMED OUT';
  RUNNING: 'RUNNING';
  PENDING: 'PENDING';
  FAILED: 'FAILED';
}>;
/** `"SUCCEEDED" | "CANCELLED" | "CANCELLING" | "TIMED OUT" | "RUNNING" | "PENDING" | "FAILED"`. */
export type InvocationStatus = (typeof InvocationStatus)[keyof typeof InvocationStatus];

/** SUCCEEDED, CANCELLED, TIMED OUT or FAILED. */
export function isFinished(status: string): boolean;

/** What a caller knows about an invocation (docs/compatibility.md §6.4). */
export class Invocation {
  constructor(fields: {
    invocationId: string;
    status: InvocationStatus;
    result: unknown;
    error: string | null;
    terminated: boolean;
    numFailedAttempts: number;
    info: Record<string, any>;
  });
  readonly invocationId: string;
  readonly status: InvocationStatus;
  /** The decoded output of the most recently updated execution, or null. */
  readonly result: unknown;
  /** That execution's error message, or null. */
  readonly error: string | null;
  /** The server has ended the invocation. */
  readonly terminated: boolean;
  readonly numFailedAttempts: number;
  /** The InvocationInfo this was derived from. */
  readonly info: InvocationInfo;
  /** The status will not change any more. */
  readonly finished: boolean;
  /** "(FAILED, 2 failed attempts)", "(SUCCEEDED - terminating)", ... */
  readableStatus(): string;
  toJSON(): {
    invocationId: string;
    status: InvocationStatus;
    result: unknown;
    error: string | null;
    terminated: boolean;
    numFailedAttempts: number;
  };
}

/** The Invocation of an InvocationInfo (a pure function). */
export function deriveInvocation(info: Record<string, any>, options?: { raw?: boolean }): Invocation;
/** The derived status alone. */
export function deriveStatus(info: Record<string, any>): InvocationStatus;

// ---------------------------------------------------------------- client

export const LATEST_VERSION: 'latest';
export const POLL_INITIAL_MS: number;
export const POLL_GROWTH: number;
export const POLL_MAX_MS: number;
export const VERSION: string;

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A control plane: one method per REST endpoint. */
export class MultinodeClient {
  /** apiUrl and apiKey default to the environment, then ~/.multinode/config.json. */
  constructor(options?: Partial<HttpOptions>);
  readonly http: HttpClient;
  readonly apiUrl: string;
  request(method: string, path: string, options?: RequestOptions): Promise<any>;

  health(o?: CallOptions): Promise<{ status: string }>;
  listProjects(o?: CallOptions): Promise<ProjectsList>;
  getProject(projectName: string, o?: CallOptions): Promise<ProjectInfo>;
  createProject(projectName: string, o?: CallOptions): Promise<ProjectInfo>;
  deleteProject(projectName: string, o?: CallOptions): Promise<ProjectInfo>;

  createVersion(projectName: string, definition: VersionDefinition, o?: CallOptions): Promise<VersionInfo>;
  getVersion(projectName: string, versionRef?: string, o?: CallOptions): Promise<VersionInfo>;
  listVersions(projectName: string, o?: CallOptions): Promise<VersionsListForProject>;

  createInvocation(
    projectName: string,
    versionRef: string,
    functionName: string,
    definition: InvocationDefinition,
    o?: CallOptions,
  ): Promise<InvocationInfo>;
  getInvocation(
    projectName: string,
    versionRef: string,
    functionName: string,
    invocationId: string,
    o?: CallOptions & { waitSeconds?: number },
  ): Promise<InvocationInfo>;
  /** `GET /invocations/{id}` (additive): the id alone is enough. */
  getInvocationById(invocationId: string, o?: CallOptions): Promise<InvocationInfo>;
  /** `GET /executions/{id}` (additive): the id alone is enough. */
  getExecutionById(executionId: string, o?: CallOptions): Promise<ExecutionInfo>;
  cancelInvocation(
    projectName: string,
    versionRef: string,
    functionName: string,
    invocationId: string,
    o?: CallOptions,
  ): Promise<InvocationInfo>;
  listInvocations(
    projectName: string,
    versionRef: string,
    functionName: string,
    o?: CallOptions & {
      maxResults?: number;
      initialOffset?: string | null;
      status?: ServerInvocationStatus;
      parentFunctionName?: string;
      parentInvocationId?: string;
    },
  ): Promise<InvocationsListForFunction>;

  static executionPath(p: string, v: string, f: string, invocationId: string, executionId: string): string;
  getExecution(p: string, v: string, f: string, invocationId: string, executionId: string, o?: CallOptions): Promise<ExecutionInfo>;
  getExecutionLogs(
    p: string,
    v: string,
    f: string,
    invocationId: string,
    executionId: string,
    o?: CallOptions & { maxLines?: number; initialOffset?: string | null },
  ): Promise<ExecutionLogs>;
  startExecution(p: string, v: string, f: string, invocationId: string, executionId: string, o?: CallOptions): Promise<ExecutionInfo>;
  heartbeatExecution(p: string, v: string, f: string, invocationId: string, executionId: string, o?: CallOptions): Promise<unknown>;
  updateExecution(
    p: string,
    v: string,
    f: string,
    invocationId: string,
    executionId: string,
    latestOutput: string,
    o?: CallOptions,
  ): Promise<ExecutionInfo>;
  finishExecution(
    p: string,
    v: string,
    f: string,
    invocationId: string,
    executionId: string,
    result: ExecutionFinalResultPayload,
    o?: CallOptions,
  ): Promise<ExecutionInfo>;
  getContainerRepositoryCredentials(o?: CallOptions): Promise<{
    repository_name: string;
    username: string;
    password: string;
    endpoint_url: string;
  }>;

  getDeployedFunction(options: Omit<GetDeployedFunctionOptions, 'client'>): Promise<DeployedFunction>;
}

export interface GetDeployedFunctionOptions {
  projectName: string;
  functionName: string;
  /** A version id; default the newest version at the time of the call. */
  versionId?: string | null;
  /** Inputs and outputs are strings, unchanged (command functions). */
  raw?: boolean;
  /** Default: a client configured from the environment or the config file. */
  client?: MultinodeClient;
  signal?: AbortSignal;
}

/** The function of a deployed project, pinned to the concrete version id. */
export function getDeployedFunction(options: GetDeployedFunctionOptions): Promise<DeployedFunction>;

export interface StartOptions {
  /** Positional arguments. */
  args?: readonly unknown[];
  /** Keyword arguments (Python functions). */
  kwargs?: Record<string, unknown>;
  /** The input string, sent unchanged instead of args/kwargs. */
  input?: string;
  raw?: boolean;
  /** Default: the running invocation inside a worker, else none. */
  parent?: ParentInvocationDefinition | null;
  signal?: AbortSignal;
  /** -100 to 100 (default 0): higher first within max_concurrency, FIFO within a priority. */
  priority?: number;
  /** At most the function's max_concurrency_per_key attempts of one key run at once (1-256 characters). */
  concurrencyKey?: string;
  /** A second start with the same key returns the first invocation's id (1-256 characters). */
  idempotencyKey?: string;
  /** Eligible only from this time on (a Date or unix seconds); not with delayMs. */
  startAt?: Date | number;
  /** Eligible only this many milliseconds after the start; not with startAt. */
  delayMs?: number;
}

/** The additive InvocationDefinition fields of these options, checked (InvalidUseError). */
export function startFields(options: Pick<StartOptions, 'priority' | 'concurrencyKey' | 'idempotencyKey' | 'startAt' | 'delayMs'>): Record<string, unknown>;

/** Inside a running task: the attempt is alive (a function's heartbeat_timeout). */
export function heartbeat(options?: { client?: MultinodeClient; signal?: AbortSignal }): Promise<void>;

export interface GetOptions {
  signal?: AbortSignal;
  raw?: boolean;
  /** `?wait_seconds=N`: a server-side wait where the daemon has it. */
  waitSeconds?: number;
}

export interface ListOptions {
  /** The nextOffset of the previous page. */
  offset?: string | null;
  maxResults?: number;
  status?: ServerInvocationStatus;
  signal?: AbortSignal;
}

export interface AwaitOptions {
  signal?: AbortSignal;
  /** Give up (AwaitResultTimeoutError) after this long. */
  timeoutMs?: number;
  raw?: boolean;
  /** Default 50. */
  pollInitialMs?: number;
  /** Default 1000. */
  pollMaxMs?: number;
  /** Default 1.5. */
  pollGrowth?: number;
  /** Default 60 (0: off): `?wait_seconds=N` on each GET (a server-side wait). */
  serverWaitSeconds?: number;
}

export class DeployedFunction {
  constructor(fields: {
    client: MultinodeClient;
    projectName: string;
    versionId: string;
    functionName: string;
    info?: Record<string, any>;
    raw?: boolean;
  });
  readonly client: MultinodeClient;
  readonly projectName: string;
  /** The concrete version id. */
  readonly versionId: string;
  readonly functionName: string;
  readonly info: FunctionInfoForVersion;
  readonly raw: boolean;

  /** Start an invocation; its id.  Input `[{"py/tuple": args}, {}]`, or (raw) the one string. */
  start(...args: unknown[]): Promise<string>;
  startWith(options?: StartOptions): Promise<string>;
  get(invocationId: string, options?: GetOptions): Promise<Invocation>;
  cancel(invocationId: string, options?: { signal?: AbortSignal }): Promise<void>;
  list(options?: ListOptions): Promise<{ invocationIds: string[]; nextOffset: string | null }>;
  /** The result once finished; throws InvocationFailedError, InvocationCancelledError, InvocationTimedOutError. */
  awaitResult(invocationId: string, options?: AwaitOptions): Promise<unknown>;
  /** start + awaitResult. */
  callRemote(...args: unknown[]): Promise<unknown>;
  /** One invocation per item, all started first; the results in order. */
  map(items: Iterable<unknown>): Promise<unknown[]>;
  /** One invocation per argument list, all started first; the results in order. */
  starmap(argLists: Iterable<readonly unknown[]>): Promise<unknown[]>;
  toString(): string;
}
