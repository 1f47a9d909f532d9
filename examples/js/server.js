// A Node HTTP server (node:http, no framework) that runs the example task on
// Multinode: the three endpoints of the Python example's FastAPI app.
//
//   multinode deploy examples/python/tasks/ --project-name=my_project
//   node examples/js/server.js                    # PORT=8000 by default
//
//   curl -X POST 'http://127.0.0.1:8000/tasks?x=10000'   # {"invocation_id": "inv-..."}
//   curl http://127.0.0.1:8000/tasks/inv-...              # {"status": "SUCCEEDED", "result": ..., "error": null}
//   curl -X PUT http://127.0.0.1:8000/tasks/inv-.../cancel
//
// The Multinode client reads the API URL and key from MULTINODE_API_URL /
// MULTINODE_API_KEY or from the file `multinode login` writes.  Install the
// package with `npm install ./js` (from the checkout's root); inside the
// checkout, this file imports it from js/ directly.
import { createServer } from 'node:http';

import { InvocationDoesNotExist, MultinodeApiError, getDeployedFunction } from '../../js/src/index.js';

const PROJECT_NAME = process.env.PROJECT_NAME || 'my_project';
const FUNCTION_NAME = process.env.FUNCTION_NAME || 'run_expensive_task';
const PORT = Number(process.env.PORT || 8000);
const HOST = process.env.HOST || '127.0.0.1';

const runExpensiveTask = await getDeployedFunction({
  projectName: PROJECT_NAME,
  functionName: FUNCTION_NAME,
});

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** POST /tasks?x=N: starts one invocation and answers its id. */
async function startTask(url, res) {
  const raw = url.searchParams.get('x');
  const x = Number(raw);
  if (raw === null || raw.trim() === '' || !Number.isInteger(x)) {
    send(res, 422, { detail: 'query parameter x must be an integer' });
    return;
  }
  const invocationId = await runExpensiveTask.start(x);
  send(res, 200, { invocation_id: invocationId });
}

/** GET /tasks/{id}: the invocation's status (PENDING, RUNNING, SUCCEEDED, ...) and result. */
async function getTask(invocationId, res) {
  const invocation = await runExpensiveTask.get(invocationId);
  send(res, 200, { status: invocation.status, result: invocation.result, error: invocation.error });
}

/** PUT /tasks/{id}/cancel: asks for the invocation to be cancelled. */
async function cancelTask(invocationId, res) {
  await runExpensiveTask.cancel(invocationId);
  send(res, 200, { invocation_id: invocationId });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (req.method === 'POST' && parts.length === 1 && parts[0] === 'tasks') {
      await startTask(url, res);
    } else if (req.method === 'GET' && parts.length === 2 && parts[0] === 'tasks') {
      await getTask(parts[1], res);
    } else if (req.method === 'PUT' && parts.length === 3 && parts[0] === 'tasks' && parts[2] === 'cancel') {
      await cancelTask(parts[1], res);
    } else {
      send(res, 404, { detail: 'Not Found' });
    }
  } catch (e) {
    if (e instanceof InvocationDoesNotExist) {
      send(res, 404, { detail: 'no such task' });
    } else if (e instanceof MultinodeApiError && e.status !== undefined && e.status < 500) {
      send(res, e.status, { detail: e.detail }); // e.g. 409: the task has already ended
    } else {
      console.error(e);
      send(res, 500, { detail: 'Internal Server Error' });
    }
  }
});

server.listen(PORT, HOST, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : PORT;
  console.log(`listening on http://${HOST}:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
