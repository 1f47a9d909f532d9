// @ts-check
/**
 * The dashboard (docs/dashboard.md): projects -> versions -> functions ->
 * invocations -> one invocation, from the REST API with the key the user
 * gives (kept in this tab's sessionStorage, or taken from `#key=...`, which
 * is removed from the address at once and never sent to the server).
 * Live views read the event streams of the API (Server-Sent Events over
 * fetch, since EventSource cannot send an Authorization header) and fall
 * back to polling when the daemon has no streams.
 */

/**
 * @typedef {{ max_retries: number, timeout_seconds: number }} ExecutionSpec
 * @typedef {{ execution_id: string, worker_status: string, outcome: string | null,
 *   output: string | null, error_message: string | null, termination_signal_time: number | null,
 *   execution_start_time: number | null, execution_finish_time: number | null,
 *   creation_time: number, last_update_time: number }} Execution
 * @typedef {{ invocation_id: string, invocation_status: string,
 *   cancellation_request_time: number | null, creation_time: number, last_update_time: number,
 *   execution_spec?: ExecutionSpec, executions?: Execution[], input?: string,
 *   termination_reason?: string | null,
 *   parent_invocation?: { function_name: string, invocation_id: string } | null }} Invocation
 * @typedef {{ id: string, status: string, created: number, updated: number }} Row
 * @typedef {{ id: string, event: string, data: any }} StreamEvent
 * @typedef {{ output: string, time: number }} ProgressUpdate
 */

const KEY_ITEM = 'multinode.apiKey';
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED OUT']);
const STATUSES = ['PENDING', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED OUT'];
const POLL_MS = 1500;

/** @type {string} */
let apiKey = '';
/** What the current view must stop when the user navigates away. @type {Array<() => void>} */
let cleanups = [];

class ApiError extends Error {
  /** @param {number} status @param {string} detail */
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no element #${id}`);
  return e;
}

/**
 * An element with attributes and children (text is always text: nothing
 * from the API is parsed as HTML).
 * @param {string} tag
 * @param {Record<string, string | boolean | ((ev: Event) => void)>} [attrs]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') e.addEventListener(k, v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false) e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** @param {string} s */
const enc = (s) => encodeURIComponent(s);

/** @param {number | null | undefined} t seconds since the epoch */
function time(t) {
  if (t === null || t === undefined) return '—';
  return new Date(t * 1000).toLocaleString();
}

/**
 * @param {string} path
 * @param {{ method?: string, signal?: AbortSignal }} [opts]
 * @returns {Promise<any>}
 */
async function api(path, opts = {}) {
  const res = await fetch(path, {
    method: opts.method || 'GET',
    headers: { Authorization: `Bearer ${apiKey}` },
    signal: opts.signal,
  });
  const text = await res.text();
  if (!res.ok) {
    let detail = text;
    try {
      const d = JSON.parse(text).detail;
      detail = typeof d === 'string' ? d : JSON.stringify(d);
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, detail);
  }
  return text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
}

/**
 * The derived status of an invocation (reference §6.4).
 * @param {Invocation} inv
 * @returns {string}
 */
function deriveStatus(inv) {
  const execs = inv.executions || [];
  const spec = inv.execution_spec || { max_retries: 0, timeout_seconds: Infinity };
  const limit = inv.creation_time + spec.timeout_seconds;
  let aborted = false;
  let abortedLate = false;
  let failed = 0;
  for (const e of execs) {
    if (e.outcome === 'SUCCEEDED') return 'SUCCEEDED';
    const signalled = e.termination_signal_time !== null;
    const isAborted = e.outcome === 'ABORTED'
      || (e.worker_status === 'TERMINATED' && !e.outcome && signalled && e.execution_start_time === null);
    if (isAborted) {
      aborted = true;
      if (signalled && /** @type {number} */ (e.termination_signal_time) > limit) abortedLate = true;
    } else if (e.outcome === 'FAILED' || (e.worker_status === 'TERMINATED' && !e.outcome)) {
      failed++;
    }
  }
  if (abortedLate) return 'TIMED OUT';
  if (aborted) return 'CANCELLED';
  if (failed >= spec.max_retries + 1) return 'FAILED';
  if (inv.invocation_status === 'TERMINATED' && inv.termination_reason === 'QUEUE_TIMEOUT') return 'TIMED OUT';
  if (inv.invocation_status === 'TERMINATED') return inv.last_update_time > limit ? 'TIMED OUT' : 'CANCELLED';
  if (inv.cancellation_request_time !== null) return 'CANCELLING';
  if (execs.some((e) => e.worker_status === 'RUNNING' && e.execution_start_time !== null && !e.outcome)) return 'RUNNING';
  return 'PENDING';
}

/** @param {string} status */
function badge(status) {
  return h('span', { class: `status s-${status.replace(' ', '-')}`, 'data-status': status }, status);
}

/** @type {Promise<Set<string>> | null} */
let knownPaths = null;

/**
 * Whether the daemon serves a path template (its parameter names aside),
 * from its OpenAPI document, read once: the dashboard asks for nothing the
 * daemon lacks (no failed request, so no console error, on older daemons).
 * @param {string} template e.g. "/projects/{}/events"
 * @returns {Promise<boolean>}
 */
async function serves(template) {
  const norm = (/** @type {string} */ t) => t.replace(/\{[^}]*\}/g, '{}');
  knownPaths ??= fetch('/openapi.json').then((r) => r.json())
    .then((doc) => new Set(Object.keys(doc.paths || {}).map(norm)), () => new Set());
  return (await knownPaths).has(norm(template));
}

/**
 * Reads a Server-Sent Events stream (docs/events.md: id, event, data of
 * one JSON line) until it ends or `signal` aborts; reconnects with
 * Last-Event-ID after a break. Resolves false when the daemon has no such
 * stream (404/405), so the caller polls instead.
 * @param {string} path
 * @param {(ev: StreamEvent) => void} onEvent
 * @param {AbortSignal} signal
 * @param {(on: boolean) => void} [onState]
 * @returns {Promise<boolean>}
 */
async function followStream(path, onEvent, signal, onState = () => {}) {
  if (!(await serves(path.replace(/\/(projects|versions|functions|invocations)\/[^/]+/g, '/$1/{}')))) return false;
  let lastId = '';
  while (!signal.aborted) {
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${apiKey}`, Accept: 'text/event-stream' };
    if (lastId) headers['Last-Event-ID'] = lastId;
    let ended = false;
    try {
      const res = await fetch(path, { headers, signal });
      if (res.status === 404 || res.status === 405) return false;
      if (!res.ok || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
        throw new ApiError(res.status, 'the event stream was refused');
      }
      onState(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      /** @type {{ id: string, event: string, data: string[] }} */
      let cur = { id: '', event: 'message', data: [] };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (cur.data.length) {
              if (cur.id) lastId = cur.id;
              let data = null;
              try {
                data = JSON.parse(cur.data.join('\n'));
              } catch {
                data = cur.data.join('\n');
              }
              onEvent({ id: cur.id, event: cur.event, data });
              if (cur.event === 'end') ended = true;
            }
            cur = { id: '', event: 'message', data: [] };
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') cur.id = val;
            else if (field === 'event') cur.event = val;
            else if (field === 'data') cur.data.push(val);
          }
        }
      }
    } catch (e) {
      if (signal.aborted) break;
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw e;
    }
    onState(false);
    if (ended) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return true;
}

/** Runs `fn` every `ms` until the view changes. @param {() => Promise<void>} fn @param {number} ms */
function every(fn, ms) {
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const tick = async () => {
    try {
      await fn();
    } catch (e) {
      showError(e);
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  cleanups.push(() => {
    stopped = true;
    clearTimeout(timer);
  });
}

/** @param {unknown} e */
function showError(e) {
  if (e instanceof DOMException && e.name === 'AbortError') return;
  if (e instanceof ApiError && (e.status === 401 || e.status === 403) && /key|authenticated|credentials/i.test(e.detail)) {
    sessionStorage.removeItem(KEY_ITEM);
    apiKey = '';
    route();
    return;
  }
  const box = document.getElementById('view-error');
  if (box) box.textContent = e instanceof Error ? e.message : String(e);
}

/** @param {Array<[string, string]>} parts label and hash of each level */
function crumbs(parts) {
  const nav = byId('crumbs');
  nav.replaceChildren();
  parts.forEach(([label, href], i) => {
    if (i) nav.append(h('span', { class: 'sep' }, '›'));
    nav.append(i === parts.length - 1 ? h('span', {}, label) : h('a', { href }, label));
  });
}

/** @param {boolean | null} on null: no live view here */
function liveState(on) {
  const e = byId('live');
  e.hidden = on === null;
  e.className = on ? 'live on' : 'live';
  e.textContent = on ? 'live' : 'polling';
}

/** @param {string} title @param {...(Node | string)} body */
function page(title, ...body) {
  const main = byId('main');
  main.replaceChildren(h('h1', {}, title), h('p', { id: 'view-error', class: 'error', role: 'alert' }), ...body);
}

// ---- views ----------------------------------------------------------------

async function viewProjects() {
  crumbs([['Projects', '#/']]);
  const body = h('tbody');
  page('Projects', h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Project'), h('th', { class: 'wide' }, 'Created'))), body));
  const list = await api('/projects');
  for (const p of list.projects || []) {
    body.append(h('tr', {}, h('td', {}, h('a', { href: `#/p/${enc(p.project_name)}` }, p.project_name)),
      h('td', { class: 'wide' }, time(p.creation_time))));
  }
  if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: '2', class: 'muted' }, 'No projects yet.')));
}

/** @param {string} p */
async function viewVersions(p) {
  crumbs([['Projects', '#/'], [p, `#/p/${enc(p)}`]]);
  const body = h('tbody');
  page(`Versions of ${p}`, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Created'), h('th', { class: 'num' }, 'Functions'))), body));
  const list = await api(`/projects/${enc(p)}/versions`);
  const versions = [...(list.versions || [])].sort((a, b) => b.creation_time - a.creation_time);
  for (const v of versions) {
    body.append(h('tr', {}, h('td', {}, h('a', { href: `#/p/${enc(p)}/v/${enc(v.version_id)}` }, v.version_id)),
      h('td', {}, time(v.creation_time)), h('td', { class: 'num' }, String((v.functions || []).length))));
  }
  if (!versions.length) body.append(h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'No versions yet.')));
}

/**
 * The samples of /metrics whose labels match (Prometheus text format).
 * @param {string} text
 * @param {string} name
 * @returns {Array<{ labels: Record<string, string>, value: number }>}
 */
function samples(text, name) {
  /** @type {Array<{ labels: Record<string, string>, value: number }>} */
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    /** @type {Record<string, string>} */
    const labels = {};
    const re = /(\w+)="((?:[^"\\]|\\.)*)"/g;
    let m;
    while ((m = re.exec(line.slice(name.length + 1, close)))) labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ labels, value: Number(line.slice(close + 1).trim()) });
  }
  return out;
}

/** @param {string} p @param {string} v */
async function viewFunctions(p, v) {
  crumbs([['Projects', '#/'], [p, `#/p/${enc(p)}`], [v, `#/p/${enc(p)}/v/${enc(v)}`]]);
  const body = h('tbody');
  const note = h('p', { class: 'muted' }, 'Succeeded and failed count the invocations that ended since the daemon started.');
  page(`Functions of ${p}`, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Function'), h('th', { class: 'num' }, 'Queued'),
    h('th', { class: 'num' }, 'Running'), h('th', { class: 'num' }, 'Succeeded'), h('th', { class: 'num' }, 'Failed'))), body), note);
  const version = await api(`/projects/${enc(p)}/versions/${enc(v)}`);
  /** @type {string[]} */
  const names = (version.functions || []).map((/** @type {{ function_name: string }} */ f) => f.function_name);
  const refresh = async () => {
    /** @type {string} */
    let metrics = '';
    try {
      metrics = await api('/metrics');
    } catch (e) {
      note.textContent = `Counts unavailable: ${e instanceof Error ? e.message : String(e)}`;
    }
    /** @param {string} metric @param {string} f @param {Record<string, string>} [extra] */
    const sum = (metric, f, extra = {}) => samples(metrics, metric)
      .filter((s) => s.labels.project === p && s.labels.function === f && (!s.labels.version || s.labels.version === version.version_id)
        && Object.entries(extra).every(([k, val]) => s.labels[k] === val))
      .reduce((a, s) => a + s.value, 0);
    body.replaceChildren(...names.map((f) => h('tr', { 'data-function': f },
      h('td', {}, h('a', { href: `#/p/${enc(p)}/v/${enc(version.version_id)}/f/${enc(f)}` }, f)),
      h('td', { class: 'num', 'data-col': 'queued' }, metrics ? String(sum('multinode_invocations_queued', f)) : '—'),
      h('td', { class: 'num', 'data-col': 'running' }, metrics ? String(sum('multinode_invocations_running', f)) : '—'),
      h('td', { class: 'num', 'data-col': 'succeeded' }, metrics ? String(sum('multinode_invocations_ended_total', f, { status: 'SUCCEEDED' })) : '—'),
      h('td', { class: 'num', 'data-col': 'failed' }, metrics ? String(sum('multinode_invocations_ended_total', f, { status: 'FAILED' })) : '—'))));
  };
  await refresh();
  every(refresh, 3000);
}

/** @param {string} p @param {string} v @param {string} f */
async function viewInvocations(p, v, f) {
  const base = `/projects/${enc(p)}/versions/${enc(v)}/functions/${enc(f)}`;
  const here = `#/p/${enc(p)}/v/${enc(v)}/f/${enc(f)}`;
  crumbs([['Projects', '#/'], [p, `#/p/${enc(p)}`], [v, `#/p/${enc(p)}/v/${enc(v)}`], [f, here]]);
  const filter = /** @type {HTMLSelectElement} */ (h('select', { id: 'status-filter', 'aria-label': 'Status' },
    h('option', { value: '' }, 'All statuses'), ...STATUSES.map((s) => h('option', { value: s }, s))));
  const body = h('tbody', { id: 'invocations' });
  page(`Invocations of ${f}`, h('div', { class: 'toolbar' }, filter),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Invocation'), h('th', {}, 'Status'), h('th', { class: 'wide' }, 'Created'), h('th', { class: 'wide' }, 'Updated'))), body));
  /** @type {Map<string, Row>} */
  const rows = new Map();
  const render = () => {
    const want = filter.value;
    const shown = [...rows.values()].filter((r) => !want || r.status === want)
      .sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1)).slice(0, 100);
    body.replaceChildren(...shown.map((r) => h('tr', { 'data-invocation': r.id },
      h('td', {}, h('a', { href: `${here}/i/${enc(r.id)}` }, r.id)), h('td', {}, badge(r.status)),
      h('td', { class: 'wide' }, time(r.created)), h('td', { class: 'wide' }, time(r.updated)))));
    if (!shown.length) body.append(h('tr', {}, h('td', { colspan: '4', class: 'muted' }, 'No invocations.')));
  };
  filter.addEventListener('change', () => render());
  /** @param {string} id */
  const fetchOne = async (id) => {
    const inv = /** @type {Invocation} */ (await api(`${base}/invocations/${enc(id)}`));
    rows.set(id, { id, status: deriveStatus(inv), created: inv.creation_time, updated: inv.last_update_time });
  };
  /** The first page, each row's status from its invocation (4 at a time). */
  const load = async () => {
    const list = await api(`${base}/invocations?max_results=50`);
    /** @type {string[]} */
    const todo = [];
    for (const i of list.invocations || []) {
      const known = rows.get(i.invocation_id);
      if (!known || !FINISHED.has(known.status) || known.updated !== i.last_update_time) todo.push(i.invocation_id);
    }
    const workers = Array.from({ length: 4 }, async () => {
      for (let id; (id = todo.shift()) !== undefined;) await fetchOne(id);
    });
    await Promise.all(workers);
    render();
  };
  await load();
  const ctl = new AbortController();
  cleanups.push(() => ctl.abort());
  liveState(false);
  /** @param {StreamEvent} ev */
  const onEvent = (ev) => {
    const d = ev.data || {};
    if (d.project_name !== p || d.function_name !== f || d.version_id !== v) return;
    if (ev.event === 'invocation') {
      const prev = rows.get(d.invocation_id);
      rows.set(d.invocation_id, {
        id: d.invocation_id,
        status: d.status || prev?.status || 'PENDING',
        created: d.creation_time ?? prev?.created ?? 0,
        updated: d.last_update_time ?? prev?.updated ?? 0,
      });
      render();
    } else if (ev.event === 'execution') {
      fetchOne(d.invocation_id).then(render, showError);
    }
  };
  followStream(`/projects/${enc(p)}/events`, onEvent, ctl.signal, liveState).then((streamed) => {
    if (!streamed && !ctl.signal.aborted) {
      liveState(false);
      every(load, POLL_MS);
    }
  }, showError);
}

/** @param {string} p @param {string} v @param {string} f @param {string} id */
async function viewInvocation(p, v, f, id) {
  const base = `/projects/${enc(p)}/versions/${enc(v)}/functions/${enc(f)}/invocations/${enc(id)}`;
  const fnHash = `#/p/${enc(p)}/v/${enc(v)}/f/${enc(f)}`;
  crumbs([['Projects', '#/'], [p, `#/p/${enc(p)}`], [v, `#/p/${enc(p)}/v/${enc(v)}`], [f, fnHash], [id, `${fnHash}/i/${enc(id)}`]]);
  const status = h('span', { id: 'inv-status' });
  const cancel = /** @type {HTMLButtonElement} */ (h('button', { id: 'cancel', type: 'button', class: 'danger' }, 'Cancel'));
  const facts = h('dl');
  const attempts = h('tbody', { id: 'attempts' });
  const progress = h('pre', { id: 'progress' });
  const progressNote = h('p', { id: 'progress-note', class: 'muted' });
  const logs = h('pre', { id: 'logs' });
  page(`Invocation ${id}`, h('div', { class: 'toolbar' }, status, cancel), h('div', { class: 'card' }, facts),
    h('h2', {}, 'Attempts'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Execution'), h('th', {}, 'Worker'), h('th', {}, 'Outcome'),
      h('th', { class: 'wide' }, 'Started'), h('th', { class: 'wide' }, 'Finished'), h('th', {}, 'Error'))), attempts),
    h('h2', {}, 'Progress'), progressNote, progress, h('h2', {}, 'Log (latest attempt)'), logs);

  /** @type {Invocation | null} */
  let inv = null;
  /**
   * Adds u to list unless the same update (time and output) is there.
   * @param {ProgressUpdate[]} list @param {ProgressUpdate} u
   */
  const addUpdate = (list, u) => {
    if (!list.some((a) => a.time === u.time && a.output === u.output)) list.push(u);
  };
  /** progress updates shown, per execution @type {Map<string, ProgressUpdate[]>} */
  const updates = new Map();
  let historyAvailable = true;
  const showProgress = () => {
    const lines = [];
    for (const e of inv?.executions || []) {
      for (const u of updates.get(e.execution_id) || []) lines.push(`[${e.execution_id.slice(0, 12)}] ${time(u.time)}  ${u.output}`);
    }
    progress.textContent = lines.length ? lines.join('\n') : '(no progress reported)';
    progressNote.textContent = historyAvailable ? ''
      : 'This daemon keeps only the latest progress of each attempt: shown is what this page saw.';
  };
  /** @param {string} eid */
  const loadHistory = async (eid) => {
    historyAvailable = historyAvailable && await serves('/projects/{}/versions/{}/functions/{}/invocations/{}/executions/{}/progress');
    if (!historyAvailable) return;
    /** @type {ProgressUpdate[]} */
    const all = [];
    let offset = '';
    try {
      for (let pages = 0; pages < 20; pages++) {
        const q = `max_results=1000${offset ? `&initial_offset=${enc(offset)}` : ''}`;
        const r = await api(`${base}/executions/${enc(eid)}/progress?${q}`);
        all.push(...(r.updates || []));
        if (!r.next_offset) break;
        offset = r.next_offset;
      }
      // a live update that came in while the history was read is kept:
      // the history read may have started before it was stored
      for (const u of updates.get(eid) || []) addUpdate(all, u);
      all.sort((a, b) => a.time - b.time);
      updates.set(eid, all);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405) && /not found/i.test(e.detail)) historyAvailable = false;
      else throw e;
    }
  };
  const refresh = async () => {
    inv = /** @type {Invocation} */ (await api(base));
    const st = deriveStatus(inv);
    status.replaceChildren(badge(st));
    cancel.disabled = inv.invocation_status === 'TERMINATED' || inv.cancellation_request_time !== null || FINISHED.has(st);
    facts.replaceChildren(
      h('dt', {}, 'Status'), h('dd', {}, `${st} (server: ${inv.invocation_status})`),
      h('dt', {}, 'Created'), h('dd', {}, time(inv.creation_time)),
      h('dt', {}, 'Updated'), h('dd', {}, time(inv.last_update_time)),
      h('dt', {}, 'Parent'), h('dd', {}, inv.parent_invocation ? `${inv.parent_invocation.function_name} / ${inv.parent_invocation.invocation_id}` : '—'),
      h('dt', {}, 'Input'), h('dd', {}, h('code', {}, (inv.input || '').slice(0, 2000))));
    attempts.replaceChildren(...(inv.executions || []).map((e) => h('tr', { 'data-execution': e.execution_id },
      h('td', {}, e.execution_id), h('td', {}, e.worker_status), h('td', {}, e.outcome || '—'),
      h('td', { class: 'wide' }, time(e.execution_start_time)), h('td', { class: 'wide' }, time(e.execution_finish_time)),
      h('td', {}, e.error_message || ''))));
    if (!attempts.children.length) attempts.append(h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No attempt yet.')));
    for (const e of inv.executions || []) {
      if (!updates.has(e.execution_id) || e.worker_status !== 'TERMINATED') await loadHistory(e.execution_id);
      if (!historyAvailable && e.output !== null) {
        // no history on this daemon: keep each latest output this page sees
        const seen = updates.get(e.execution_id) || [];
        if (seen[seen.length - 1]?.output !== e.output) seen.push({ output: e.output, time: e.last_update_time });
        updates.set(e.execution_id, seen);
      }
    }
    showProgress();
  };

  // the log of the latest attempt, followed while it runs (the CLI's
  // `logs --follow`: the page that ended the log is read again from its
  // start and the lines already shown are skipped)
  /** @type {{ eid: string, offset: string, seen: number, lines: string[] }} */
  let log = { eid: '', offset: '', seen: 0, lines: [] };
  const followLog = async () => {
    const execs = inv?.executions || [];
    const latest = execs[execs.length - 1];
    if (!latest) {
      logs.textContent = '(no attempt yet)';
      return;
    }
    if (log.eid !== latest.execution_id) log = { eid: latest.execution_id, offset: '', seen: 0, lines: [] };
    for (let pages = 0; pages < 50; pages++) {
      const q = `max_lines=250${log.offset ? `&initial_offset=${enc(log.offset)}` : ''}`;
      const r = await api(`${base}/executions/${enc(log.eid)}/logs?${q}`);
      const got = r.log_lines || [];
      log.lines.push(...got.slice(log.seen));
      if (r.next_offset && r.next_offset !== log.offset && got.length) {
        log.offset = r.next_offset;
        log.seen = 0;
      } else {
        log.seen = Math.max(log.seen, got.length);
        break;
      }
    }
    logs.textContent = log.lines.length ? log.lines.join('\n') : '(empty)';
  };

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await api(`${base}/cancel`, { method: 'PUT' });
      await refresh();
    } catch (e) {
      showError(e);
      cancel.disabled = false;
    }
  });

  await refresh();
  await followLog();
  const ctl = new AbortController();
  cleanups.push(() => ctl.abort());
  liveState(false);
  /** @param {StreamEvent} ev */
  const onEvent = (ev) => {
    const d = ev.data || {};
    if (ev.event === 'progress' && historyAvailable && d.execution_id) {
      const list = updates.get(d.execution_id) || [];
      addUpdate(list, { output: d.output, time: d.time });
      updates.set(d.execution_id, list);
      showProgress();
    } else if (ev.event === 'invocation' || ev.event === 'execution' || ev.event === 'end') {
      refresh().catch(showError);
    }
  };
  let running = true;
  every(async () => {
    if (!running) return;
    await followLog();
    if (inv && inv.invocation_status === 'TERMINATED') running = false; // one last read was made
  }, 1000);
  followStream(`${base}/events`, onEvent, ctl.signal, liveState).then(async (streamed) => {
    if (!streamed && !ctl.signal.aborted) {
      liveState(false);
      every(refresh, POLL_MS);
    } else if (!ctl.signal.aborted) {
      await refresh();
      liveState(null);
    }
  }, showError);
}

// ---- routing and the key ----------------------------------------------------

function login() {
  crumbs([]);
  liveState(null);
  byId('forget').hidden = true;
  const tpl = /** @type {HTMLTemplateElement} */ (byId('login-form'));
  byId('main').replaceChildren(tpl.content.cloneNode(true));
  const form = byId('login');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = /** @type {HTMLInputElement} */ (byId('key'));
    apiKey = input.value.trim();
    try {
      await api('/projects');
      sessionStorage.setItem(KEY_ITEM, apiKey);
      route();
    } catch (e) {
      apiKey = '';
      byId('login-error').textContent = e instanceof Error ? e.message : String(e);
    }
  });
}

async function route() {
  for (const c of cleanups) c();
  cleanups = [];
  liveState(null);
  const hash = location.hash;
  if (hash.startsWith('#key=')) {
    // the key from the address, kept in this tab and removed from the address
    apiKey = decodeURIComponent(hash.slice(5));
    sessionStorage.setItem(KEY_ITEM, apiKey);
    history.replaceState(null, '', `${location.pathname}#/`);
  }
  apiKey = apiKey || sessionStorage.getItem(KEY_ITEM) || '';
  if (!apiKey) {
    login();
    return;
  }
  byId('forget').hidden = false;
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'p' && parts.length === 2) await viewVersions(parts[1]);
    else if (parts[0] === 'p' && parts[2] === 'v' && parts.length === 4) await viewFunctions(parts[1], parts[3]);
    else if (parts[0] === 'p' && parts[4] === 'f' && parts.length === 6) await viewInvocations(parts[1], parts[3], parts[5]);
    else if (parts[0] === 'p' && parts[6] === 'i' && parts.length === 8) await viewInvocation(parts[1], parts[3], parts[5], parts[7]);
    else await viewProjects();
  } catch (e) {
    showError(e);
  }
}

window.addEventListener('hashchange', () => { route(); });
document.addEventListener('DOMContentLoaded', () => {
  byId('forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_ITEM);
    apiKey = '';
    location.hash = '#/';
    route();
  });
  route();
});
