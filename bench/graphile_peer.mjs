// The peer of bench/dispatch_bench.sh: graphile-worker (a Postgres job queue
// with warm workers) on the same Postgres, measured the same two ways:
//   1. latency: N sequential jobs, each enqueued (addJob returned) -> its
//      handler started, p50 and p99;
//   2. throughput: M no-op jobs enqueued from 4 concurrent callers, the
//      worker at concurrency 4; jobs per second until all are done.
// Prints one JSON line. Usage: node graphile_peer.mjs CONNECTION_STRING N M
import { Logger, run, makeWorkerUtils } from "graphile-worker";

const logger = new Logger(() => () => {}); // quiet: stdout carries the figures

const [connectionString, nArg, mArg] = process.argv.slice(2);
const n = Number(nArg ?? 500);
const m = Number(mArg ?? 1000);
const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
};

let onStamp = null;
let done = 0;
let onDone = null;
const runner = await run({
  connectionString,
  concurrency: 4,
  noHandleSignals: true,
  pollInterval: 1000,
  logger,
  taskList: {
    stamp: async () => { if (onStamp) onStamp(performance.now()); },
    noop: async () => { done += 1; if (done === m && onDone) onDone(); },
  },
});
const utils = await makeWorkerUtils({ connectionString, logger });

const latencies = [];
for (let i = 0; i < n; i++) {
  const started = new Promise((resolve) => { onStamp = resolve; });
  await utils.addJob("stamp", {});
  const enqueued = performance.now();
  latencies.push((await started) - enqueued);
}
onStamp = null;

const allDone = new Promise((resolve) => { onDone = resolve; });
const t0 = performance.now();
const perCaller = Math.ceil(m / 4);
await Promise.all([0, 1, 2, 3].map(async (c) => {
  for (let i = c * perCaller; i < Math.min(m, (c + 1) * perCaller); i++)
    await utils.addJob("noop", {});
}));
await allDone;
const seconds = (performance.now() - t0) / 1000;

console.log("RESULT " + JSON.stringify({
  p50_ms: pct(latencies, 0.5), p99_ms: pct(latencies, 0.99), jobs_per_s: m / seconds,
}));
await utils.release();
await runner.stop();
