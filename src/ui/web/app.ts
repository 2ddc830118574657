// pitr ui's page: builds the timeline (uPlot), the tables panel, a table at a moment, diff, row
// history and the restore panel from the JSON API (docs/ui.md). No framework: a few panels of DOM.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import type { Marker, RestoreEvent, RestoreSummary, TableRows, TimelineAnswer } from '../api-types.js';

interface TableWindow {
  table: string;
  windows: { from: string; to: string | null; fromEvent: string; toEvent?: string }[];
}

interface StatusReport {
  sourceId: string;
  healthy: boolean;
  problems: string[];
  capture: { state: string; lagSeconds: number | null; lastGtidPos: string | null };
  coverage: { from: string; to: string }[];
  tables: TableWindow[];
}

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`missing ${sel}`);
  return el;
};

/** Query string token (bound beyond loopback): sent on every API call. */
const token = new URLSearchParams(location.search).get('token');

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init?.body) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch {
    throw new Error('the pitr ui server does not answer (is `pitr ui` still running?).');
  }
  const body = (await res.json().catch(() => ({ error: `the server answered ${res.status} without JSON.` }))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `the server answered ${res.status}.`);
  return body;
}

function showError(msg: string): void {
  const e = $('#error');
  e.textContent = msg;
  e.hidden = false;
}

function clearError(): void {
  $('#error').hidden = true;
}

/** Runs an action; its failure becomes the one message at the top of the page. */
async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    clearError();
    await fn();
  } catch (err) {
    showError((err as Error).message);
  }
}

const iso = (sec: number): string => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

// ---------- timeline ----------

let plot: uPlot | undefined;
let current: TimelineAnswer | undefined;
let markerEls: { m: Marker; el: HTMLDivElement }[] = [];
let selected: Marker | undefined;
let picked: number[] = [];
let firstDraw = true;

function markerText(m: Marker): string {
  const lines = [`${m.kind.toUpperCase()} at ${iso(m.time)}`];
  if (m.gtid) lines.push(`GTID ${m.gtid}${m.position ? `  (${m.position})` : ''}`);
  if (m.statements?.length) for (const s of m.statements) lines.push(`statement: ${s}`);
  else lines.push(m.label);
  if (m.changes) lines.push(`row changes: ${m.changes.inserts} inserted, ${m.changes.updates} updated, ${m.changes.deletes} deleted`);
  if (m.tables.length) lines.push(`tables: ${m.tables.join(', ')}`);
  for (const d of m.details ?? []) lines.push(`guard: ${d}`);
  return lines.join('\n');
}

function placeMarkers(u: uPlot): void {
  const min = u.scales.x.min ?? -Infinity;
  const max = u.scales.x.max ?? Infinity;
  const step = current?.step ?? 1;
  u.over.style.setProperty('--line', `${Math.max(0, u.over.clientHeight - 14)}px`);
  // Markers of one bucket share it: spread across it, and never closer than 7 px.
  const groups = new Map<number, { m: Marker; el: HTMLDivElement }[]>();
  for (const x of markerEls) {
    const b = Math.floor(x.m.time / step) * step;
    const g = groups.get(b);
    if (g) g.push(x);
    else groups.set(b, [x]);
  }
  for (const [b, g] of groups) {
    let prev = -Infinity;
    g.forEach(({ el }, i) => {
      const at = b + (step * (i + 1)) / (g.length + 1);
      if (at < min || at > max) {
        el.style.display = 'none';
        return;
      }
      const px = Math.max(u.valToPos(at, 'x'), prev + 7);
      prev = px;
      el.style.display = '';
      el.style.left = `${px}px`;
    });
  }
}

function buildMarkers(u: uPlot, markers: Marker[]): void {
  for (const { el } of markerEls) el.remove();
  const tip = $('#tooltip');
  markerEls = markers.map((m) => {
    const el = document.createElement('div');
    el.className = `marker ${m.kind}`;
    el.dataset.kind = m.kind;
    el.dataset.time = String(m.time);
    el.dataset.label = m.label;
    if (m.gtid) el.dataset.gtid = m.gtid;
    el.dataset.tables = m.tables.join(',');
    el.addEventListener('mouseenter', (ev) => {
      tip.textContent = markerText(m);
      tip.hidden = false;
      tip.style.left = `${Math.min(ev.clientX + 12, window.innerWidth - 470)}px`;
      tip.style.top = `${ev.clientY + 12}px`;
    });
    el.addEventListener('mouseleave', () => (tip.hidden = true));
    el.addEventListener('click', (ev) => {
      ev.stopPropagation();
      selectMarker(m, el);
    });
    u.over.appendChild(el);
    return { m, el };
  });
  placeMarkers(u);
}

function selectMarker(m: Marker, el: HTMLElement): void {
  selected = m;
  for (const x of markerEls) x.el.classList.toggle('selected', x.el === el);
  const d = $('#marker-detail');
  d.hidden = false;
  $('#marker-text').textContent = markerText(m);
  d.querySelectorAll<HTMLButtonElement>('button[data-action="before"], button[data-action="through"]').forEach((b) => (b.disabled = !m.gtid));
}

/** Whole seconds and up: the log's times have no finer grain. */
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
const stepped = uPlot.paths.stepped?.({ align: 1 });

function timeLabel(v: number, span: number): string {
  const s = new Date(v * 1000).toISOString();
  return span > 86_400 ? `${s.slice(5, 10)} ${s.slice(11, 16)}` : s.slice(11, 19);
}

function chartWidth(): number {
  return Math.max(400, $('#timeline-panel').clientWidth - 26);
}

function renderTimeline(tl: TimelineAnswer): void {
  current = tl;
  const perWhat = tl.step === 1 ? 'second' : tl.step === 60 ? 'minute' : `${tl.step} s`;
  $('#timeline-info').textContent = `${tl.transactionsTotal} transactions in the log; per ${perWhat}; ${tl.markers.length} markers in view; log read in ${tl.scanSeconds.toFixed(2)} s${tl.notes.length ? '; ' + tl.notes.join('; ') : ''}`;
  // Stepped paths draw each bucket up to the next sample: one more sample closes the last bucket.
  const end = tl.t.length ? tl.t[tl.t.length - 1]! + tl.step : tl.from;
  const data: uPlot.AlignedData = [[...tl.t, end], [...tl.transactions, tl.transactions.at(-1) ?? 0], [...tl.changes, tl.changes.at(-1) ?? 0]];
  if (!plot) {
    const opts: uPlot.Options = {
      width: chartWidth(),
      height: 300,
            scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] }, changes: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] } },
      series: [
        { label: 'time (UTC)', value: (_u, v) => (v == null ? '' : iso(v)) },
        { label: 'transactions', stroke: '#2563eb', fill: 'rgba(37,99,235,0.15)', width: 1, points: { show: false }, paths: stepped },
        { label: 'row changes', stroke: '#f97316', width: 1, scale: 'changes', points: { show: false }, paths: stepped },
      ],
      axes: [
        { incrs: TIME_INCRS, values: (u, ticks) => ticks.map((v) => timeLabel(v, (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0))) },
        { label: 'transactions', stroke: '#2563eb' },
        { label: 'row changes', side: 1, scale: 'changes', stroke: '#f97316', grid: { show: false } },
      ],
      cursor: { drag: { x: true, y: false, setScale: true } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            document.body.dataset.view = `${Math.floor(u.scales.x.min ?? 0)}-${Math.ceil(u.scales.x.max ?? 0)}`;
            placeMarkers(u);
            maybeRefine(u);
          },
        ],
        setSize: [(u) => placeMarkers(u)],
        draw: [
          () => {
            if (!firstDraw) return;
            firstDraw = false;
            performance.mark('pitr-timeline-drawn');
            const m = performance.measure('pitr-timeline', 'pitr-timeline-start', 'pitr-timeline-drawn');
            document.body.dataset.timelineMs = String(Math.round(m.duration));
          },
        ],
      },
    };
    plot = new uPlot(opts, data, $('#chart'));
    plot.over.addEventListener('click', () => {
      if (!plot || plot.select.width > 2) return;
      const left = plot.cursor.left ?? -1;
      if (left < 0) return;
      pickSecond(Math.floor(plot.posToVal(left, 'x')));
    });
    window.addEventListener('resize', () => plot?.setSize({ width: chartWidth(), height: 300 }));
  } else plot.setData(data, true);
  buildMarkers(plot, tl.markers);
}

let refining: number | undefined;
/** Zoomed into a window the per-minute data cannot show: ask for it per second. */
function maybeRefine(u: uPlot): void {
  if (!current || current.step === 1) return;
  const min = Math.floor(u.scales.x.min ?? current.from);
  const max = Math.ceil(u.scales.x.max ?? current.to);
  if (max - min > 86_400) return;
  window.clearTimeout(refining);
  refining = window.setTimeout(() => void guarded(() => loadTimeline({ from: min, to: max })), 150);
}

async function loadTimeline(q: { from?: number; to?: number; refresh?: boolean } = {}): Promise<void> {
  const p = new URLSearchParams();
  if (q.from !== undefined) p.set('from', `@${q.from}`);
  if (q.to !== undefined) p.set('to', `@${q.to}`);
  if (q.refresh) p.set('refresh', '1');
  const tl = await api<TimelineAnswer>(`/api/timeline?${p}`);
  renderTimeline(tl);
}

function pickSecond(sec: number): void {
  picked = [...picked, sec].slice(-2);
  $('#picked').textContent = `picked ${iso(sec)}${picked.length === 2 ? ` (diff from ${iso(picked[0]!)} to ${iso(picked[1]!)})` : ''}: used as "as of" for the table and the restore cut`;
  $<HTMLInputElement>('#moment-asof').value = iso(sec);
  $<HTMLInputElement>('#cut-asof').value = iso(sec);
  if (picked.length === 2) {
    $<HTMLInputElement>('#diff-from').value = iso(Math.min(...picked));
    $<HTMLInputElement>('#diff-to').value = iso(Math.max(...picked));
  }
  void updateCommand();
}

// ---------- tables ----------

let tableRows: TableRows[] = [];
let rowsPlot: uPlot | undefined;

/** "2026-12-03T13:28:27Z" as "2026-12-03 13:28:27". */
const shortTime = (t: string): string => t.replace('T', ' ').replace(/Z$/, '');

function databaseOf(name: string): string {
  if (name.startsWith('`')) return name.slice(1, name.indexOf('`', 1));
  return name.split('.')[0]!;
}

function fillTables(st: StatusReport): void {
  const body = $('#tables').querySelector('tbody')!;
  const rowsNow = new Map(tableRows.map((r) => [r.table, r.rows.at(-1)]));
  body.innerHTML = st.tables
    .map(
      (t) =>
        `<tr data-table="${esc(t.table)}"><td>${esc(t.table)}</td><td class="window">${t.windows.map((w) => `${esc(shortTime(w.from))} → ${w.to ? `${esc(shortTime(w.to))} (${esc(w.toEvent ?? '')})` : 'now'}`).join('<br>')}</td><td>${esc(rowsNow.get(t.table) ?? '')}</td></tr>`,
    )
    .join('');
  body.querySelectorAll('tr').forEach((tr) => tr.addEventListener('click', () => selectTable(tr.dataset.table!)));
  const names = st.tables.map((t) => t.table);
  const dbs = [...new Set(names.map(databaseOf))];
  $<HTMLSelectElement>('#moment-table').innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join('');
  $<HTMLSelectElement>('#restore-tables').innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join('');
  $<HTMLSelectElement>('#restore-database').innerHTML = dbs.map((n) => `<option>${esc(n)}</option>`).join('');
}

function selectTable(name: string): void {
  $('#tables').querySelectorAll('tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.table === name));
  $<HTMLSelectElement>('#moment-table').value = name;
  const r = tableRows.find((x) => x.table === name);
  const el = $('#rows-chart');
  rowsPlot?.destroy();
  rowsPlot = undefined;
  el.textContent = '';
  if (!r || !r.t.length) {
    el.textContent = 'no row counts known for this table';
    return;
  }
  rowsPlot = new uPlot(
    {
      title: `${name}: rows over time`,
      width: Math.max(280, $('#tables-panel').clientWidth - 26),
      height: 160,
      scales: { x: { time: true } },
      series: [{}, { label: 'rows', stroke: '#059669', points: { show: false }, paths: uPlot.paths.stepped?.({ align: 1 }) }],
      axes: [{ values: (_u, ticks) => ticks.map((v) => new Date(v * 1000).toISOString().slice(11, 19)) }, {}],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: false },
    },
    [r.t, r.rows],
    el,
  );
}

async function loadStatus(): Promise<void> {
  const [st, rows] = await Promise.all([api<StatusReport>('/api/status'), api<{ tables: TableRows[] }>('/api/table-rows')]);
  tableRows = rows.tables;
  $('#source-id').textContent = `log ${st.sourceId}`;
  const cov = st.coverage.map((c) => `${c.from} → ${c.to}`).join(', ') || 'nothing restorable yet';
  $('#status-line').textContent = `capture ${st.capture.state}${st.capture.lagSeconds != null ? `, lag ${st.capture.lagSeconds} s` : ''}; restorable ${cov}${st.problems.length ? `; ${st.problems.join('; ')}` : ''}`;
  fillTables(st);
}

// ---------- a table at a moment, diff, history ----------

let momentPage = 0;

function renderRows(columns: string[], rows: unknown[][]): string {
  return `<div class="result"><table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${v === null ? '<i>NULL</i>' : esc(v)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

async function showMoment(page: number): Promise<void> {
  const table = $<HTMLSelectElement>('#moment-table').value;
  const asOf = $<HTMLInputElement>('#moment-asof').value.trim();
  const out = $('#moment-result');
  out.textContent = 'materializing…';
  try {
    const r = await api<{ table: string; cut: string; position: string; columns: string[]; rows: unknown[][]; page: number; pageSize: number; more: boolean; total: number; seconds: number }>(
      `/api/table?${new URLSearchParams({ table, asOf, page: String(page), pageSize: '50' })}`,
    );
    momentPage = r.page;
    out.innerHTML = `<p class="muted">${esc(r.table)} ${esc(r.cut)} (cut ${esc(r.position)}): ${r.total} rows, page ${r.page + 1}; ${r.seconds.toFixed(2)} s
      <button type="button" id="moment-prev" ${r.page === 0 ? 'disabled' : ''}>Previous</button> <button type="button" id="moment-next" ${r.more ? '' : 'disabled'}>Next</button></p>${renderRows(r.columns, r.rows)}`;
    $('#moment-prev').addEventListener('click', () => void guarded(() => showMoment(momentPage - 1)));
    $('#moment-next').addEventListener('click', () => void guarded(() => showMoment(momentPage + 1)));
  } catch (err) {
    out.textContent = '';
    throw err;
  }
}

/** Fills a result box from one API call; a failure empties it and goes to the page's message. */
async function intoResult<T>(box: string, busy: string, path: string, render: (r: T) => string): Promise<void> {
  const out = $(box);
  out.textContent = busy;
  try {
    out.innerHTML = render(await api<T>(path));
  } catch (err) {
    out.textContent = '';
    throw err;
  }
}

interface DiffAnswer {
  table: string;
  window: string;
  counts: Record<string, number>;
  inserted: unknown[];
  deleted: unknown[];
  changed: unknown[];
  seconds: number;
}

interface HistoryAnswer {
  table: string;
  rows: { key: Record<string, string>; initial: unknown; versions: { commitTime: number; gtid: string; op: string; changed: { column: string; before: unknown; after: unknown }[] }[] }[];
}

function showDiff(): Promise<void> {
  const q = new URLSearchParams({ table: $<HTMLSelectElement>('#moment-table').value, from: $<HTMLInputElement>('#diff-from').value.trim(), to: $<HTMLInputElement>('#diff-to').value.trim() });
  return intoResult<DiffAnswer>('#diff-result', 'reading the window…', `/api/diff?${q}`, (r) =>
    `<p class="muted">${esc(r.table)} ${esc(r.window)}: ${esc(JSON.stringify(r.counts))}; ${r.seconds.toFixed(2)} s</p><pre class="result">${esc(JSON.stringify({ inserted: r.inserted, deleted: r.deleted, changed: r.changed }, null, 1))}</pre>`,
  );
}

function showHistory(): Promise<void> {
  const q = new URLSearchParams({ table: $<HTMLSelectElement>('#moment-table').value, pk: $<HTMLInputElement>('#history-pk').value.trim() });
  return intoResult<HistoryAnswer>('#history-result', 'reading the history…', `/api/history?${q}`, (r) =>
    r.rows
      .map(
        (row) =>
          `<p><b>${esc(JSON.stringify(row.key))}</b> initial ${esc(JSON.stringify(row.initial))}</p><table><tbody>${row.versions
            .map((v) => `<tr><td>${esc(iso(v.commitTime))}</td><td>${esc(v.gtid)}</td><td>${esc(v.op)}</td><td>${v.changed.map((c) => `${esc(c.column)}: ${esc(JSON.stringify(c.before))} → ${esc(JSON.stringify(c.after))}`).join('<br>')}</td></tr>`)
            .join('')}</tbody></table>`,
      )
      .join(''),
  );
}

// ---------- restore ----------

function restoreRequest(): Record<string, unknown> {
  const form = $<HTMLFormElement>('#restore-form');
  const what = (form.elements.namedItem('what') as RadioNodeList).value;
  const cut = (form.elements.namedItem('cut') as RadioNodeList).value;
  const req: Record<string, unknown> = {};
  if (what === 'tables') req.tables = [...$<HTMLSelectElement>('#restore-tables').selectedOptions].map((o) => o.value);
  else req.database = $<HTMLSelectElement>('#restore-database').value;
  const value = { asOf: '#cut-asof', beforeGtid: '#cut-before', throughGtid: '#cut-through' }[cut as 'asOf'];
  req[cut] = $<HTMLInputElement>(value).value.trim();
  const into = $<HTMLInputElement>('#restore-into').value.trim();
  if (into) req.intoDatabase = into;
  if ($<HTMLInputElement>('#restore-replace').checked) req.replace = true;
  return req;
}

let commandSeq = 0;
async function updateCommand(): Promise<void> {
  const seq = ++commandSeq;
  const pre = $('#restore-command');
  try {
    const r = await api<{ command: string }>('/api/restore/command', { method: 'POST', body: JSON.stringify(restoreRequest()) });
    if (seq !== commandSeq) return;
    pre.textContent = r.command;
    pre.dataset.valid = 'true';
  } catch (err) {
    if (seq !== commandSeq) return;
    pre.textContent = `(not yet a restore: ${(err as Error).message})`;
    pre.dataset.valid = 'false';
  }
}

function setCut(kind: 'asOf' | 'beforeGtid' | 'throughGtid', value: string): void {
  const form = $<HTMLFormElement>('#restore-form');
  (form.elements.namedItem('cut') as RadioNodeList).value = kind;
  $<HTMLInputElement>({ asOf: '#cut-asof', beforeGtid: '#cut-before', throughGtid: '#cut-through' }[kind]).value = value;
}

function proposeFromMarker(m: Marker, kind: 'beforeGtid' | 'throughGtid'): void {
  if (!m.gtid) return;
  setCut(kind, m.gtid);
  const form = $<HTMLFormElement>('#restore-form');
  const wholeDb = m.database ?? m.tables.find((t) => t.endsWith('.*'))?.slice(0, -2);
  if (wholeDb) {
    (form.elements.namedItem('what') as RadioNodeList).value = 'database';
    $<HTMLSelectElement>('#restore-database').value = databaseOf(wholeDb);
  } else {
    (form.elements.namedItem('what') as RadioNodeList).value = 'tables';
    for (const o of $<HTMLSelectElement>('#restore-tables').options) o.selected = m.tables.includes(o.value);
  }
  void updateCommand();
  $('#restore-panel').scrollIntoView({ behavior: 'smooth' });
}

function renderSummary(s: RestoreSummary): void {
  const ref = s.tables.some((t) => t.reference);
  $('#restore-summary').innerHTML = `<p>${esc(s.cut)} (cut ${esc(s.position)}) in ${s.seconds.toFixed(2)} s${ref ? `; compared with ${esc(s.reference)}` : ''}</p>
    <table id="summary-table"><thead><tr><th>table</th><th>restored into</th><th>rows</th><th>checksum</th>${ref ? '<th>reference rows</th><th>reference checksum</th><th></th>' : ''}</tr></thead><tbody>${s.tables
      .map(
        (t) =>
          `<tr data-table="${esc(t.table)}"><td>${esc(t.table)}</td><td>${esc(t.into)}</td><td>${t.rows}</td><td>${esc(t.checksum)}</td>${
            t.reference ? `<td>${t.reference.rows}</td><td>${esc(t.reference.checksum)}</td><td class="${t.reference.equal ? 'equal' : 'different'}">${t.reference.equal ? 'EQUAL' : 'DIFFERENT'}</td>` : ref ? '<td></td><td></td><td></td>' : ''
          }</tr>`,
      )
      .join('')}</tbody></table>`;
}

async function runRestore(): Promise<void> {
  const run = $<HTMLButtonElement>('#restore-run');
  const bar = $<HTMLProgressElement>('#restore-progress');
  const state = $('#restore-state');
  $('#restore-summary').textContent = '';
  const job = await api<{ id: string; command: string }>('/api/restore', { method: 'POST', body: JSON.stringify(restoreRequest()) });
  run.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  state.textContent = `running: ${job.command}`;
  const es = new EventSource(`/api/restore/${job.id}/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  await new Promise<void>((resolve) => {
    // The stream ends only after the last event: an error before it means the server went away.
    es.onerror = () => {
      es.close();
      state.textContent = 'lost the restore\'s progress';
      state.dataset.state = 'failed';
      showError('lost the connection to the pitr ui server during the restore (is `pitr ui` still running?).');
      resolve();
    };
    es.onmessage = (msg) => {
      const e = JSON.parse(msg.data as string) as RestoreEvent;
      if (e.type === 'progress') {
        bar.max = Math.max(1, e.total);
        bar.value = e.done;
        state.textContent = `reading the log: ${e.done} of at most ${e.total} records`;
      } else if (e.type === 'done') {
        bar.value = bar.max;
        state.textContent = `restored ${e.summary.tables.length} table(s)`;
        state.dataset.state = 'done';
        renderSummary(e.summary);
        es.close();
        resolve();
      } else if (e.type === 'error') {
        state.textContent = 'the restore failed';
        state.dataset.state = 'failed';
        showError(e.message);
        es.close();
        resolve();
      }
    };
  });
  run.disabled = false;
}

// ---------- wiring ----------

function wire(): void {
  $('#reload').addEventListener('click', () => void guarded(async () => {
    await loadTimeline({ refresh: true });
    await loadStatus();
  }));
  $('#zoom-all').addEventListener('click', () => void guarded(() => loadTimeline()));
  $('#marker-detail').addEventListener('click', (ev) => {
    const action = (ev.target as HTMLElement).dataset.action;
    if (!selected || !action) return;
    if (action === 'before') proposeFromMarker(selected, 'beforeGtid');
    else if (action === 'through') proposeFromMarker(selected, 'throughGtid');
    else if (action === 'view-before') {
      const t = selected.tables.find((x) => !x.endsWith('.*'));
      if (t) $<HTMLSelectElement>('#moment-table').value = t;
      $<HTMLInputElement>('#moment-asof').value = iso(selected.time - 1);
      void guarded(() => showMoment(0));
    }
  });
  $('#moment-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void guarded(() => showMoment(0));
  });
  $('#diff-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void guarded(showDiff);
  });
  $('#history-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void guarded(showHistory);
  });
  const form = $<HTMLFormElement>('#restore-form');
  form.addEventListener('input', () => void updateCommand());
  form.addEventListener('change', () => void updateCommand());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void guarded(runRestore);
  });
}

wire();
performance.mark('pitr-timeline-start');
void guarded(async () => {
  await loadTimeline();
  await loadStatus();
  await updateCommand();
  document.body.dataset.ready = 'true';
});
