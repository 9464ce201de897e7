// Every open connection (GET /api/connections, admin), with a way to end one.
import { h, time } from './format.js';
import { disconnectButton } from './job.js';
import { alertError } from './ui.js';

export class ConnectionsView {
  constructor(api, signal) {
    this._api = api;
    this._section = document.getElementById('connections-view');
    this._user = '';
    this._gone = new Set(); // connections disconnected from this view
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
    // The server may list a connection it has just disconnected for a moment: it closes on its own
    // event loop after answering.
    const shown = page.connections.filter((c) => !this._gone.has(c.id));
    const body = this._section.querySelector('tbody');
    body.replaceChildren(
      ...shown.map((c) =>
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
          h(
            'td',
            {},
            disconnectButton(this._api, c, (gone) => {
              if (gone) this._gone.add(gone);
              this.load();
            }),
          ),
        ),
      ),
    );
    const total = page.total - (page.connections.length - shown.length);
    document.getElementById('connections-count').textContent = `${shown.length} of ${total} connections`;
    this._loads = (this._loads ?? 0) + 1;
    this._section.dataset.loaded = String(this._loads); // a count: tests wait for the next one
  }
}
