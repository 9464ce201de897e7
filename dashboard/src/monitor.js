// The operator's live figures and job announcements: /ws/monitor (admin only), which sends
// system_status every 2 s and job_created / job_status as they happen. It authenticates with a
// first `auth` message. When the monitor is refused or unavailable, the figures come from polling
// GET /api/stats instead, and job changes are noticed by the jobs list's own polling.

const POLL_MS = 3000;
const RETRY_MS = 10000;

export class Monitor {
  /**
   * @param {import('./api.js').Api} api
   * @param {string} token
   * @param {{onFigures: (f: object, source: string) => void, onJob: (msg: object) => void, onMode: (live: boolean) => void}} hooks
   */
  constructor(api, token, hooks) {
    this._api = api;
    this._token = token;
    this._hooks = hooks;
    this._closed = false;
    this._pollTimer = null;
    this._retryTimer = null;
    this.live = false;
    this._connect();
  }

  _connect() {
    if (this._closed) return;
    const url = new URL('/ws/monitor', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this._fallback(false);
      return;
    }
    this._ws = ws;
    let statusSeen = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this._token }));
    ws.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === 'system_status') {
        if (!statusSeen) {
          statusSeen = true;
          this._setLive(true);
        }
        this._hooks.onFigures(fromStatus(msg), 'live');
      } else if (msg.type === 'job_created' || msg.type === 'job_status') {
        this._hooks.onJob(msg);
      }
    };
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      this._ws = null;
      // 4401/4403: this token may not use the monitor; retrying would be refused again.
      this._fallback(!this._closed && event.code !== 4401 && event.code !== 4403);
    };
  }

  _setLive(live) {
    this.live = live;
    if (live) {
      clearInterval(this._pollTimer);
      this._pollTimer = null;
    }
    this._hooks.onMode(live);
  }

  /** Polls /api/stats until the monitor is back (`retry`) or for good. */
  _fallback(retry) {
    if (this._closed) return;
    this._setLive(false);
    if (!this._pollTimer) {
      const poll = async () => {
        try {
          this._hooks.onFigures(fromStats(await this._api.stats()), 'polled');
        } catch {
          /* the next poll tries again */
        }
      };
      poll();
      this._pollTimer = setInterval(poll, POLL_MS);
    }
    if (retry) {
      clearTimeout(this._retryTimer);
      this._retryTimer = setTimeout(() => this._connect(), RETRY_MS);
    }
  }

  close() {
    this._closed = true;
    clearInterval(this._pollTimer);
    clearTimeout(this._retryTimer);
    const ws = this._ws;
    this._ws = null;
    ws?.close(1000);
  }
}

function fromStatus(msg) {
  return {
    connections: msg.connections,
    subscriptions: msg.subscriptions,
    deliveriesPerSecond: msg.deliveries_per_second,
    publishesPerSecond: msg.publishes_per_second,
    storeP99Ms: msg.store_commit_ms_p99,
    inProgress: msg.jobs?.in_progress,
  };
}

function fromStats(stats) {
  return {
    connections: stats.connections?.open,
    subscriptions: stats.connections?.subscriptions,
    deliveriesPerSecond: stats.rates?.deliveries_per_second,
    publishesPerSecond: stats.rates?.publishes_per_second,
    storeP99Ms: stats.store?.commit_ms_p99,
    inProgress: stats.jobs?.in_progress,
  };
}
