// Every open connection (GET /api/connections, admin), with a way to end one.
import { h, time } from './format.js';
import { disconnectButton } from './job.js';
import { alertError } from './ui.js';

export class ConnectionsView {
  constructor(api, signal) {
    this._api = api;
    this._section = document.getElementById('connections-view');
    this._user = '';
    document.getElementById('connections-filter').addEventListener('submit', (e) => {
      e.preventDefault();
      this._user = document.getElementById('c-user').value.trim();
      this.load();
    }, { signal });
  }

  show() {
    this._section.hidden = false;
    this.load();
  }

  hide() {
    this._section.hidden = true;
  }

  async load() {
    let page;
    try {
      page = await this._api.connections({ user: this._user });
    } catch (e) {
      alertError(`Could not list connections: ${e.message}`);
      return;
    }
    alertError(null);
    const body = this._section.querySelector('tbody');
    body.replaceChildren(
      ...page.connections.map((c) =>
        h(
          'tr',
          { 'data-connection': c.id },
          h('th', { scope: 'row' }, c.id),
          h('td', {}, c.user),
          h('td', {}, c.role),
          h('td', {}, c.transport),
          h('td', {}, c.remote_address ?? ''),
          h('td', {}, time(c.connected_at)),
          h('td', {}, (c.jobs ?? []).join(', ') || `${c.subscriptions ?? 0} subscriptions`),
          h('td', {}, disconnectButton(this._api, c, () => this.load())),
        ),
      ),
    );
    document.getElementById('connections-count').textContent = `${page.connections.length} of ${page.total} connections`;
    this._section.dataset.loaded = String(Date.now());
  }
}
