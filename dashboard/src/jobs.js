// The jobs table: one page of GET /api/jobs (filters, search and paging done by the server, so a
// store of 10,000 jobs costs one page), each row kept live by the jobs watched over /ws.
import { TERMINAL, age, duration, h, progressBar } from './format.js';
import { announce, alertError } from './ui.js';

/** The fewest milliseconds between two reloads of the page of jobs. */
const RELOAD_GAP_MS = 1000;
/** Without the monitor, how often the list looks for new jobs. */
const POLL_MS = 5000;

export class JobsView {
  /**
   * @param {import('./api.js').Api} api
   * @param {import('./live.js').LiveJobs} live
   * @param {AbortSignal} signal ends its listeners (at sign-out)
   */
  constructor(api, live, signal) {
    this._api = api;
    this._live = live;
    this._section = document.getElementById('jobs-view');
    this._body = document.getElementById('jobs-body');
    this._count = document.getElementById('jobs-count');
    this._form = document.getElementById('filters');
    this._rows = new Map(); // jobId -> {row, bar, cells, state}
    this._filters = { status: '', owner: '', type: '', q: '' };
    this._offset = 0;
    this._limit = 50;
    this._total = 0;
    this._reloadTimer = null;
    this._lastLoad = 0;
    this._pollTimer = null;
    this._loading = null;
    this.polling = true;

    this._form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(this._form);
      this._filters = {
        status: String(data.get('status') ?? ''),
        owner: String(data.get('owner') ?? '').trim(),
        type: String(data.get('type') ?? '').trim(),
        q: String(data.get('q') ?? '').trim(),
      };
      this._limit = Number(data.get('limit')) || 50;
      this._offset = 0;
      this.load();
    }, { signal });
    document.getElementById('page-prev').addEventListener('click', () => {
      this._offset = Math.max(0, this._offset - this._limit);
      this.load();
    }, { signal });
    document.getElementById('page-next').addEventListener('click', () => {
      if (this._offset + this._limit < this._total) this._offset += this._limit;
      this.load();
    }, { signal });
  }

  show() {
    this._section.hidden = false;
    this.load();
    this._schedulePoll();
  }

  hide() {
    this._section.hidden = true;
    clearInterval(this._pollTimer);
    this._pollTimer = null;
  }

  get visible() {
    return !this._section.hidden;
  }

  /** Whether to look for new jobs by polling (no monitor to say when they appear). */
  setPolling(polling) {
    this.polling = polling;
    this._schedulePoll();
  }

  _schedulePoll() {
    clearInterval(this._pollTimer);
    this._pollTimer = null;
    if (this.polling && this.visible) this._pollTimer = setInterval(() => this.reloadSoon(), POLL_MS);
  }

  /** A job appeared or changed status somewhere (from the monitor): reload, at most once a second. */
  onJobEvent() {
    if (this.visible) this.reloadSoon();
  }

  reloadSoon() {
    if (this._reloadTimer) return;
    const wait = Math.max(0, this._lastLoad + RELOAD_GAP_MS - Date.now());
    this._reloadTimer = setTimeout(() => {
      this._reloadTimer = null;
      this.load();
    }, wait);
  }

  async load() {
    if (!this.visible) return;
    this._lastLoad = Date.now();
    const asked = { ...this._filters, offset: this._offset, limit: this._limit };
    const loading = this._api.jobs(asked);
    this._loading = loading;
    let page;
    try {
      page = await loading;
    } catch (e) {
      if (this._loading === loading) alertError(`Could not load jobs: ${e.message}`);
      return;
    }
    // A newer load is on its way, or another view took over (and the live subscriptions with it).
    if (this._loading !== loading || !this.visible) return;
    alertError(null);
    this._total = page.total;
    if (page.jobs.length === 0 && this._offset > 0 && this._offset >= page.total) {
      // The page emptied under us (jobs finished and went): step back to the last one.
      this._offset = Math.max(0, Math.floor((page.total - 1) / this._limit) * this._limit);
      this.load();
      return;
    }
    this._render(page.jobs);
  }

  _render(jobs) {
    const now = Date.now();
    this._rows.clear();
    const rows = jobs.map((job) => this._row(job, now));
    this._body.replaceChildren(...rows);
    if (jobs.length === 0) {
      this._body.append(h('tr', {}, h('td', { colSpan: 8, class: 'empty' }, 'No jobs match.')));
    }
    const first = jobs.length ? this._offset + 1 : 0;
    const last = this._offset + jobs.length;
    this._count.textContent = `${first}–${last} of ${this._total.toLocaleString('en')} jobs`;
    document.getElementById('page-prev').disabled = this._offset === 0;
    document.getElementById('page-next').disabled = last >= this._total;
    // A count, not a time: tests wait for the next one, and two loads can share a millisecond.
    this._loads = (this._loads ?? 0) + 1;
    this._section.dataset.loaded = String(this._loads);
    this._live.show(
      jobs.map((j) => j.id),
      (state) => this._update(state),
    );
  }

  _row(job, now) {
    const bar = progressBar(`Progress of ${job.id}`);
    const cells = {
      status: h('td', { class: 'status' }),
      stage: h('td', { class: 'stage' }),
      eta: h('td', { class: 'eta' }),
    };
    const row = h(
      'tr',
      { 'data-job': job.id },
      h('th', { scope: 'row', class: 'id' }, h('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.id)),
      cells.status,
      h('td', {}, bar),
      cells.stage,
      cells.eta,
      h('td', {}, job.owner ?? ''),
      h('td', {}, job.type ?? ''),
      h('td', { title: job.created_at }, age(job.created_at, now)),
    );
    const entry = { row, bar, cells, state: job };
    this._rows.set(job.id, entry);
    this._paint(entry, job);
    return row;
  }

  _paint(entry, state) {
    entry.cells.status.replaceChildren(h('span', { class: `badge ${state.status}` }, state.status.replace('_', ' ')));
    entry.row.dataset.status = state.status;
    entry.bar.set(state.progress, state.status);
    entry.cells.stage.textContent = state.stage ?? '';
    entry.cells.eta.textContent = TERMINAL.includes(state.status) ? '' : duration(state.eta_seconds);
  }

  /** A live state of a job on this page. */
  _update(state) {
    const entry = this._rows.get(state.job_id);
    if (!entry || state.seq < (entry.state.seq ?? 0)) return;
    const before = entry.state.status;
    entry.state = { ...entry.state, ...state };
    this._paint(entry, entry.state);
    if (before !== state.status) {
      announce(`Job ${state.job_id} is ${state.status.replace('_', ' ')}`);
      // It may no longer belong to this filtered list.
      if (this._filters.status && this._filters.status !== state.status) this.reloadSoon();
    }
  }
}
