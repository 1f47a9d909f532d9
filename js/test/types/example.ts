// Compiled with `tsc --noEmit --strict` against the packed package
// (test/types.test.js): the package's types resolve and describe its API.
import {
  ApiKeyIsInvalid,
  AwaitResultTimeoutError,
  DeployedFunction,
  ERROR_TYPES,
  Invocation,
  InvocationCancelledError,
  InvocationDoesNotExist,
  InvocationFailedError,
  InvocationStatus,
  InvocationTimedOutError,
  MultinodeApiError,
  MultinodeClient,
  MultinodeError,
  deriveInvocation,
  getDeployedFunction,
  loadConfig,
  resolveError,
  type InvocationInfo,
  type VersionDefinition,
} from 'multinode';

function describeStatus(status: InvocationStatus): string {
  switch (status) {
    case InvocationStatus.SUCCEEDED:
    case 'CANCELLED':
    case 'TIMED OUT':
    case 'FAILED':
      return 'finished';
    case 'CANCELLING':
    case 'RUNNING':
    case 'PENDING':
      return 'going on';
    default: {
      const never: never = status;
      return never;
    }
  }
}

export async function example(): Promise<number> {
  const config: { apiUrl: string; apiKey: string | null } = loadConfig(undefined, { apiKey: 'k' });
  const client = new MultinodeClient({ apiUrl: config.apiUrl, apiKey: 'k', maxRetries: 2, timeoutMs: 5000 });

  const definition: VersionDefinition = {
    default_docker_image: 'unused',
    functions: [
      {
        function_name: 'f',
        command: ['cat'],
        resource_spec: { virtual_cpus: 0.1, memory_gbs: 0.25, max_concurrency: 10 },
        execution_spec: { max_retries: 0, timeout_seconds: 60 },
      },
    ],
  };
  await client.createProject('p');
  const version = await client.createVersion('p', definition);
  const versionId: string = version.version_id;

  const task: DeployedFunction = await getDeployedFunction({
    projectName: 'my_project',
    functionName: 'run_expensive_task',
    versionId,
    client,
  });
  const raw = await client.getDeployedFunction({ projectName: 'p', functionName: 'f', raw: true });

  const ctrl = new AbortController();
  const id: string = await task.start(10000);
  const id2: string = await task.startWith({ args: [1], kwargs: { x: 2 }, signal: ctrl.signal });
  const inv: Invocation = await task.get(id, { signal: ctrl.signal });
  const text: string = describeStatus(inv.status) + inv.readableStatus();
  const failures: number = inv.numFailedAttempts;
  const error: string | null = inv.error;
  const finished: boolean = inv.finished && inv.terminated;
  const info: InvocationInfo = inv.info;
  const output: string | null | undefined = info.executions[0]?.output;

  const page = await task.list({ offset: null, maxResults: 10 });
  const ids: string[] = page.invocationIds;
  const next: string | null = page.nextOffset;

  try {
    const result: unknown = await task.awaitResult(id2, { timeoutMs: 1000, signal: ctrl.signal });
    void result;
    await raw.callRemote('hello');
    await task.cancel(id);
  } catch (e) {
    if (e instanceof InvocationDoesNotExist || e instanceof ApiKeyIsInvalid) {
      const status: number | undefined = e.status;
      const detail: unknown = e.detail;
      void status, detail;
    } else if (e instanceof InvocationFailedError || e instanceof InvocationCancelledError || e instanceof InvocationTimedOutError) {
      const seen: Invocation | undefined = e.invocation;
      void seen;
    } else if (e instanceof AwaitResultTimeoutError || e instanceof MultinodeError) {
      const message: string = e.message;
      void message;
    }
  }

  const rebuilt: MultinodeApiError = resolveError(404, 'A project with this name does not exist');
  const classes: ReadonlyArray<typeof MultinodeApiError> = ERROR_TYPES;
  const derived = deriveInvocation(info, { raw: true });
  void [text, failures, error, finished, output, ids, next, rebuilt, classes, derived];
  return ids.length;
}
