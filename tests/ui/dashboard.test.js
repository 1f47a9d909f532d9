// The dashboard (/ui/, docs/dashboard.md) in Debian's Chromium, driven by
// puppeteer-core (from npm, installed once into MN_PPTR_DIR, default
// /tmp/mn-pptr), against a real daemon: the key from the address, projects ->
// versions -> functions -> invocations; an invocation started by the test
// appears and turns RUNNING then SUCCEEDED without a reload; its page shows
// its progress and log; another is cancelled from its page; a phone-wide
// page does not overflow; no console error anywhere. Screenshots of every
// page go to MN_UI_OUT. Also: the JSDoc types of ui/app.js pass
// `tsc --checkJs --strict`, and /ui/ carries a Content Security Policy.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { KEY, SOURCE_DIR, startDaemon, waitUntil } from '../../js/test/daemon.js';

const PPTR_DIR = process.env.MN_PPTR_DIR || '/tmp/mn-pptr';
const TS_DIR = process.env.MN_TS_DIR || '/tmp/mn-ts';
const OUT = process.env.MN_UI_OUT || join(SOURCE_DIR, 'build', 'tests', 'ui-output');
const CHROMIUM = process.env.MN_CHROMIUM || '/usr/bin/chromium';
const P = 'dash';

/** @param {string} cmd @param {string[]} args @param {import('node:child_process').SpawnSyncOptions} [opts] */
function run(cmd, args, opts = {}) {
  const p = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts });
  return { status: p.status, out: `${p.stdout ?? ''}${p.stderr ?? ''}${p.error ? String(p.error) : ''}` };
}

/** An npm package installed once into dir (with the npm cache). @param {string} dir @param {string[]} pkgs @param {string} probe */
function npmInstall(dir, pkgs, probe) {
  if (existsSync(join(dir, 'node_modules', probe))) return;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"name":"scratch","private":true}');
  const p = run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', ...pkgs]);
  assert.equal(p.status, 0, `cannot install ${pkgs.join(' ')} into ${dir}:\n${p.out}`);
}

/** @type {import('../../js/test/daemon.js').Daemon} */
let d;
/** @type {any} */
let browser;
/** @type {string[]} */
const consoleErrors = [];
/** tsc over ui/app.js, run while the browser works @type {Promise<{ status: number | null, out: string }>} */
let typeCheck;
const typesDir = mkdtempSync('/tmp/mn-ui-types.');

/** Starts `tsc --checkJs --strict` over the dashboard's script. */
function startTypeCheck() {
  npmInstall(TS_DIR, ['typescript@5', '@types/node@20'], '.bin/tsc');
  writeFileSync(join(typesDir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      allowJs: true, checkJs: true, noEmit: true, strict: true, target: 'es2022',
      lib: ['es2022', 'dom', 'dom.iterable'], types: [],
    },
    files: [join(SOURCE_DIR, 'ui', 'app.js')],
  }));
  const p = spawn(join(TS_DIR, 'node_modules', '.bin', 'tsc'), ['-p', join(typesDir, 'tsconfig.json')]);
  let out = '';
  p.stdout.on('data', (c) => { out += c; });
  p.stderr.on('data', (c) => { out += c; });
  return new Promise((resolve) => {
    p.on('error', (e) => resolve({ status: -1, out: `${out}${e}` }));
    p.on('close', (status) => resolve({ status, out }));
  });
}

before(async () => {
  typeCheck = startTypeCheck();
  npmInstall(PPTR_DIR, ['puppeteer-core@24'], 'puppeteer-core/package.json');
  mkdirSync(OUT, { recursive: true });
  d = await startDaemon({ serverYaml: '  metrics:\n    public: true\n' });
  const require = createRequire(join(PPTR_DIR, 'package.json'));
  const puppeteer = require('puppeteer-core');
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  await d?.stop();
  await typeCheck;
  rmSync(typesDir, { recursive: true, force: true });
});

/**
 * The text of the first element matching selector ('' when none).
 * @param {any} page @param {string} selector
 */
const textOf = (page, selector) => page.$eval(selector, (/** @type {Element} */ e) => e.textContent ?? '').catch(() => '');

/** @param {any} page @param {string} name */
async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

test('projects -> versions -> functions -> invocations, live, with progress, log and cancel', async () => {
  // the page's own files carry a CSP; /metrics is public on this daemon
  const index = await fetch(`${d.url}/ui/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal((await fetch(`${d.url}/ui/nothing.js`)).status, 404);
  assert.equal((await fetch(`${d.url}/ui/`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${d.url}/metrics`)).status, 200, 'server.metrics.public: true');

  const version = await d.deployCommands(P, [
    { name: 'work', command: ['sh', '-c', 'multinode progress "step one"; echo hello-from-the-log >&2; sleep 1; multinode progress "step two"; sleep 2; echo done >&2'] },
    { name: 'long', command: ['sh', '-c', 'multinode progress "waiting"; exec sleep 60'] },
  ]);
  const fnUrl = (/** @type {string} */ f) => `/projects/${P}/versions/${version}/functions/${f}/invocations`;
  const auth = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
  /** Starts an invocation of f from the test; its id. @param {string} f */
  const start = async (f) => {
    const r = await fetch(`${d.url}${fnUrl(f)}`, { method: 'POST', headers: auth, body: JSON.stringify({ input: 'x' }) });
    assert.equal(r.status, 200);
    return /** @type {string} */ ((await r.json()).invocation_id);
  };

  const page = await browser.newPage();
  page.on('console', (/** @type {any} */ m) => { if (m.type() === 'error') consoleErrors.push(`console: ${m.text()} (${m.location()?.url ?? ''})`); });
  page.on('pageerror', (/** @type {Error} */ e) => consoleErrors.push(`page: ${e.message}`));
  page.on('requestfailed', (/** @type {any} */ r) => {
    const why = r.failure()?.errorText ?? '';
    if (!why.includes('ERR_ABORTED')) consoleErrors.push(`request ${r.url()}: ${why}`);
  });
  await page.setViewport({ width: 1280, height: 800 });

  // the key from the fragment: kept in the tab, gone from the address
  await page.goto(`${d.url}/ui/#key=${encodeURIComponent(KEY)}`);
  await page.waitForSelector(`a[href="#/p/${P}"]`);
  assert.equal(await page.evaluate(() => location.hash), '#/');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('multinode.apiKey')), KEY);
  await page.evaluate(() => { /** @type {any} */ (window).notReloaded = true; });
  await shot(page, '1-projects');

  await page.click(`a[href="#/p/${P}"]`);
  await page.waitForSelector(`a[href="#/p/${P}/v/${version}"]`);
  await shot(page, '2-versions');
  await page.click(`a[href="#/p/${P}/v/${version}"]`);
  await page.waitForSelector('tr[data-function="work"] td[data-col="queued"]');
  await shot(page, '3-functions');
  await page.click(`a[href="#/p/${P}/v/${version}/f/work"]`);
  await page.waitForSelector('#invocations');
  // live from the project's event stream when the daemon has one (its
  // OpenAPI document lists it), else polling
  const paths = Object.keys((await (await fetch(`${d.url}/openapi.json`)).json()).paths);
  const streams = paths.includes('/projects/{project_name}/events');
  console.log(`# event streams served by the daemon: ${streams}`);
  await waitUntil('the live indicator', async () => (await textOf(page, '#live')) === (streams ? 'live' : 'polling'));
  if (streams) {
    const open = await waitUntil('the stream counted', async () => {
      const m = await (await fetch(`${d.url}/metrics`)).text();
      const n = Number(/^multinode_event_streams_open (\d+)$/m.exec(m)?.[1] ?? 0);
      return n >= 1 && n;
    });
    assert.ok(open >= 1);
  }

  // started by the test: it appears, RUNNING, then SUCCEEDED, no reload
  const id = await start('work');
  const row = `tr[data-invocation="${id}"]`;
  await page.waitForSelector(row, { timeout: 15_000 });
  /** @type {string[]} */
  const seen = [];
  await waitUntil('the row to turn SUCCEEDED', async () => {
    const s = await page.$eval(`${row} [data-status]`, (/** @type {Element} */ e) => e.getAttribute('data-status')).catch(() => '');
    if (s && seen[seen.length - 1] !== s) seen.push(s);
    if (s === 'RUNNING' && !seen.includes('shot')) {
      seen.push('shot');
      await shot(page, '4-invocations-running');
    }
    return s === 'SUCCEEDED';
  }, 30_000);
  assert.ok(seen.includes('RUNNING'), `statuses seen: ${seen.join(', ')}`);
  assert.ok(seen.indexOf('RUNNING') < seen.indexOf('SUCCEEDED'), `statuses seen: ${seen.join(', ')}`);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).notReloaded), true, 'no reload');
  await shot(page, '5-invocations-succeeded');

  // the status filter
  await page.select('#status-filter', 'FAILED');
  await waitUntil('the filter to hide the row', async () => !(await page.$(row)));
  await page.select('#status-filter', 'SUCCEEDED');
  await page.waitForSelector(row);

  // its page: attempts, progress history, log
  await page.click(`${row} a`);
  await page.waitForSelector('#attempts tr[data-execution]');
  // the progress history (GET .../executions/{id}/progress) when the daemon
  // serves it; without it the page says it shows only what it saw
  const inv = await (await fetch(`${d.url}${fnUrl('work')}/${id}`, { headers: auth })).json();
  const exe = inv.executions[inv.executions.length - 1].execution_id;
  const history = await fetch(`${d.url}${fnUrl('work')}/${id}/executions/${exe}/progress`, { headers: auth });
  const historyServed = history.status === 200;
  await waitUntil('progress and log', async () => {
    const progress = await textOf(page, '#progress');
    const log = await textOf(page, '#logs');
    const steps = progress.indexOf('step one') >= 0 && progress.indexOf('step one') < progress.indexOf('step two');
    const note = (await textOf(page, '#progress-note')).includes('latest progress');
    return (historyServed ? steps : note) && log.includes('hello-from-the-log') && log.includes('done') && log.includes('exited with code 0');
  }, 15_000).catch(async (e) => {
    await shot(page, 'failed-invocation');
    throw new Error(`${e.message}\nprogress: ${await textOf(page, '#progress')}\nnote: ${await textOf(page, '#progress-note')}\nlog: ${await textOf(page, '#logs')}\nerror: ${await textOf(page, '#view-error')}`);
  });
  console.log(`# progress history served by the daemon: ${historyServed}`);
  assert.equal(await textOf(page, '#inv-status [data-status]'), 'SUCCEEDED');
  assert.equal(await page.$eval('#cancel', (/** @type {HTMLButtonElement} */ b) => b.disabled), true);
  await shot(page, '6-invocation');

  // another, cancelled from its page
  const otherId = await start('long');
  await page.goto(`${d.url}/ui/#/p/${P}/v/${version}/f/long/i/${otherId}`);
  await waitUntil('the long one to run and report progress', async () => (await textOf(page, '#inv-status [data-status]')) === 'RUNNING'
    && (await textOf(page, '#progress')).includes('waiting')
    && (await textOf(page, '#logs')).includes(`started execution`), 20_000).catch(async (e) => {
    await shot(page, 'failed-long');
    throw new Error(`${e.message}\nstatus: ${await textOf(page, '#inv-status')}\nprogress: ${await textOf(page, '#progress')}\nlog: ${await textOf(page, '#logs')}\nerror: ${await textOf(page, '#view-error')}`);
  });
  await page.click('#cancel');
  await waitUntil('the page to show it cancelled', async () => (await textOf(page, '#inv-status [data-status]')) === 'CANCELLED', 30_000);
  const after = await (await fetch(`${d.url}${fnUrl('long')}/${otherId}`, { headers: auth })).json();
  assert.notEqual(after.cancellation_request_time, null, 'the page sent the cancel');
  await shot(page, '7-invocation-cancelled');

  // a phone's width: nothing wider than the screen
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  await page.goto(`${d.url}/ui/#/p/${P}/v/${version}/f/work`);
  await page.waitForSelector(row);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
  await shot(page, '8-phone-invocations');
  await page.goto(`${d.url}/ui/#/p/${P}/v/${version}/f/work/i/${id}`);
  await page.waitForSelector('#attempts tr[data-execution]');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1);
  await shot(page, '9-phone-invocation');

  // forgetting the key asks for one again
  await page.click('#forget');
  await page.waitForSelector('#login #key');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('multinode.apiKey')), null);
  await page.type('#key', 'wrong-key-0123456789');
  await page.click('#login button[type=submit]');
  await waitUntil('the refusal', async () => (await textOf(page, '#login-error')).length > 0);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !/status of 403/.test(e)));
  await shot(page, '10-login');

  assert.deepEqual(consoleErrors, [], 'no console errors');
});

test('the dashboard\'s JSDoc types hold (tsc --checkJs --strict)', async () => {
  const r = await typeCheck;
  assert.equal(r.status, 0, r.out);
});
