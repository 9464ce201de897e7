// One job: its current state (live), the timeline of its history, the time spent in each stage,
// its metadata and outcome; for admins its watchers and a message to them.
import { ApiError } from './api.js';
import { TERMINAL, duration, h, progressBar, time } from './format.js';
import { announce, alertError, confirmAction } from './ui.js';

export class JobView {
  /**
   * @param {import('./api.js').Api} api
   * @param {import('./live.js').LiveJobs} live
   * @param {() => boolean} isAdmin
   * @param {AbortSignal} signal ends its listeners (at sign-out)
   */
  constructor(api, live, isAdmin, signal) {
    this._api = api;
    this._live = live;
    this._isAdmin = isAdmin;
    this._section = document.getElementById('job-view');
    this._id = null;
    this._events = [];
    this._state = null;
    this._bar = progressBar('Job progress');
    this._gone = new Set(); // connections disconnected from this page

    document.getElementById('job-cancel').addEventListener('click', () => this._cancel(), { signal });
    document.getElementById('broadcast-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this._broadcast();
    }, { signal });
  }

  async show(id) {
    this._id = id;
    this._events = [];
    this._state = null;
    this._section.hidden = false;
    this._section.dataset.job = id;
    delete this._section.dataset.loaded;
    document.getElementById('job-messages').replaceChildren();
    document.getElementById('job-messages-box').hidden = true;
    document.getElementById('job-title').textContent = `Job ${id}`;
    document.getElementById('job-admin').hidden = !this._isAdmin();
    let job;
    let history;
    try {
      [job, history] = await Promise.all([this._api.job(id), this._api.history(id)]);
    } catch (e) {
      if (this._id !== id) return;
      alertError(e instanceof ApiError && e.status === 404 ? `No job ${id}.` : `Could not load job ${id}: ${e.message}`);
      this._live.show([], () => {});
      return;
    }
    if (this._id !== id) return;
    alertError(null);
    this._state = { ...job, job_id: job.id };
    this._events = history.events;
    this._renderAll();
    this._section.dataset.loaded = 'true';
    this._live.show([id], (state) => this._update(state));
    this._live.onBroadcast((msg) => this._message(msg));
    if (this._isAdmin()) this._loadWatchers();
  }

  hide() {
    this._section.hidden = true;
    this._id = null;
  }

  _update(state) {
    if (state.job_id !== this._id || state.seq <= (this._state?.seq ?? 0)) return;
    const before = this._state.status;
    this._state = { ...this._state, ...state };
    if (!this._events.some((e) => e.seq === state.seq)) this._events.push(state);
    this._renderAll();
    if (before !== state.status) announce(`Job ${state.job_id} is ${state.status.replace('_', ' ')}`);
  }

  _renderAll() {
    this._renderSummary();
    this._renderTimeline();
    this._renderStages();
    document.getElementById('job-metadata').textContent = JSON.stringify(this._state.metadata ?? {}, null, 2);
    this._renderOutcome();
    document.getElementById('job-cancel').hidden = TERMINAL.includes(this._state.status);
  }

  _renderSummary() {
    const s = this._state;
    this._bar.set(s.progress, s.status);
    const item = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value ?? '–'));
    document
      .getElementById('job-summary')
      .replaceChildren(
        this._bar,
        h(
          'dl',
          { class: 'facts' },
          item('Status', h('span', { class: `badge ${s.status}`, id: 'job-status' }, s.status.replace('_', ' '))),
          item('Stage', s.stage || '–'),
          item('Message', s.message || '–'),
          item('ETA', TERMINAL.includes(s.status) ? '–' : duration(s.eta_seconds)),
          item('Elapsed', duration(s.elapsed_seconds)),
          item('Owner', s.owner),
          item('Type', s.type),
          item('Created', s.created_at ? time(s.created_at) : '–'),
          item('Finished', s.finished_at ? time(s.finished_at) : '–'),
          item('Seq', String(s.seq)),
        ),
      );
  }

  _renderTimeline() {
    const items = this._events.map((e) =>
      h(
        'li',
        { 'data-seq': e.seq },
        h('time', { dateTime: e.timestamp }, time(e.timestamp)),
        h('span', { class: `badge ${e.status}` }, e.status.replace('_', ' ')),
        h('span', { class: 'pct' }, `${Math.round(e.progress ?? 0)}%`),
        e.stage ? h('span', { class: 'stage' }, e.stage) : null,
        e.message ? h('span', { class: 'message' }, e.message) : null,
      ),
    );
    document.getElementById('job-timeline').replaceChildren(...items);
  }

  _renderStages() {
    const rows = stageTimes(this._events, this._state, Date.now());
    const total = rows.reduce((sum, r) => sum + r.seconds, 0);
    const body = document.querySelector('#job-stages tbody');
    body.replaceChildren(
      ...rows.map((r) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, r.stage),
          h('td', {}, duration(r.seconds)),
          h('td', {}, total > 0 ? `${Math.round((100 * r.seconds) / total)}%` : '–'),
        ),
      ),
    );
  }

  _renderOutcome() {
    const s = this._state;
    const out = document.getElementById('job-outcome');
    if (s.status === 'completed') {
      out.replaceChildren(h('h3', {}, 'Result'), h('pre', { class: 'json', id: 'job-result' }, JSON.stringify(s.result ?? null, null, 2)));
    } else if (s.status === 'failed') {
      out.replaceChildren(h('h3', {}, 'Error'), h('p', { class: 'error', id: 'job-error' }, s.error ?? 'failed'));
    } else {
      out.replaceChildren();
    }
  }

  async _cancel() {
    const id = this._id;
    const { ok } = await confirmAction(`Cancel job ${id}? Its worker is told on its next update; this cannot be undone.`, {
      confirmLabel: 'Cancel job',
    });
    if (!ok || this._id !== id) return;
    try {
      const job = await this._api.cancel(id);
      this._update({ ...job, job_id: job.id });
      announce(`Job ${id} cancelled`);
    } catch (e) {
      alertError(`Could not cancel ${id}: ${e.message}`);
    }
  }

  async _loadWatchers() {
    const id = this._id;
    const body = document.querySelector('#job-watchers tbody');
    let page;
    try {
      page = await this._api.connections({ job: id });
    } catch (e) {
      if (this._id === id) body.replaceChildren(h('tr', {}, h('td', { colSpan: 6 }, `Watchers unavailable: ${e.message}`)));
      return;
    }
    if (this._id !== id) return;
    const watchers = page.connections.filter((c) => !this._gone.has(c.id));
    body.replaceChildren(
      ...watchers.map((c) =>
        h(
          'tr',
          { 'data-connection': c.id },
          h('th', { scope: 'row' }, c.id),
          h('td', {}, c.user),
          h('td', {}, c.transport),
          h('td', {}, c.remote_address ?? ''),
          h('td', {}, time(c.connected_at)),
          h('td', {}, disconnectButton(this._api, c, (gone) => this._disconnected(gone))),
        ),
      ),
    );
    if (watchers.length === 0) body.append(h('tr', {}, h('td', { colSpan: 6, class: 'empty' }, 'Nobody watches this job.')));
  }

  /** An administrator's message to this job's watchers, this page among them. */
  _message(msg) {
    if (msg.job_id !== this._id) return;
    const text = typeof msg.data === 'string' ? msg.data : JSON.stringify(msg.data);
    document.getElementById('job-messages-box').hidden = false;
    document
      .getElementById('job-messages')
      .append(h('li', {}, h('time', { dateTime: msg.timestamp }, time(msg.timestamp)), ' ', text));
    announce(`Message about job ${msg.job_id}: ${text}`);
  }

  /** After a disconnect: the list may still hold it for a moment (it closes on its own thread). */
  _disconnected(id) {
    if (id) this._gone.add(id);
    this._loadWatchers();
  }

  async _broadcast() {
    const id = this._id;
    const field = document.getElementById('broadcast-data');
    const text = field.value.trim();
    if (!text) return;
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      /* plain text goes as a string */
    }
    try {
      const answer = await this._api.broadcast(id, data);
      document.getElementById('broadcast-form').dataset.delivered = String(answer.delivered);
      announce(`Message sent to ${answer.delivered} watcher${answer.delivered === 1 ? '' : 's'}`);
      field.value = '';
    } catch (e) {
      alertError(`Could not send the message: ${e.message}`);
    }
  }
}

/**
 * A button that disconnects connection `c` after a confirmation, then calls `done(id)` with its id
 * once the server has disconnected it (`done()` when it did not).
 */
export function disconnectButton(api, c, done) {
  const button = h('button', { type: 'button', class: 'danger', 'aria-label': `Disconnect ${c.id} (${c.user})` }, 'Disconnect');
  button.addEventListener('click', async () => {
    const { ok, reason } = await confirmAction(`Disconnect ${c.id} of ${c.user}? Its client may reconnect.`, {
      withReason: true,
      confirmLabel: 'Disconnect',
    });
    if (!ok) return;
    try {
      await api.disconnect(c.id, reason || 'disconnected by an operator');
      announce(`Disconnected ${c.id}`);
      done(c.id);
    } catch (e) {
      alertError(`Could not disconnect ${c.id}: ${e.message}`);
      done();
    }
  });
  return button;
}

/**
 * Seconds per stage from a job's history: each entry's stage lasts until the next entry; the time
 * before the job started counts as waiting, and an unfinished job's current stage runs until `now`.
 */
export function stageTimes(events, state, now) {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const totals = new Map();
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    if (TERMINAL.includes(e.status)) break;
    const start = Date.parse(e.timestamp);
    const next = sorted[i + 1];
    const end = next ? Date.parse(next.timestamp) : TERMINAL.includes(state.status) ? start : now;
    if (!Number.isFinite(start) || !Number.isFinite(end)) continue;
    const label = e.status === 'pending' || e.status === 'queued' ? `(waiting: ${e.status})` : e.stage || '(no stage)';
    totals.set(label, (totals.get(label) ?? 0) + Math.max(0, end - start) / 1000);
  }
  return [...totals].map(([stage, seconds]) => ({ stage, seconds }));
}
