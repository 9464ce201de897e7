// progress-hub client: watches job progress over one multiplexed WebSocket (protocol v1, /ws).
// Plain ES module, no dependencies; runs in browsers and on Node (pass the `ws` package's
// WebSocket on Node 20, which has no global one). See README.md and ../../docs/protocol.md.

/** Statuses after which a job never changes again. */
export const TERMINAL_STATUSES = Object.freeze(['completed', 'failed', 'cancelled']);

const RECONNECT_CODES = new Set([1001, 1011, 4008, 4429]);
const FINAL_CODES = new Set([1000, 1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4404]);

/**
 * Whether a client should reconnect after a close with `code` (protocol.md, "Close codes"):
 * 1001, 1011, 4008, 4429 and abnormal closures (1006, other 1xxx) do; 1000, 1002, 1003, 1007,
 * 1008, 1009, 4400, 4401, 4403, 4404 and unknown 4xxx codes do not.
 */
export function shouldReconnect(code) {
  if (RECONNECT_CODES.has(code)) return true;
  if (FINAL_CODES.has(code)) return false;
  return code < 4000 && code !== 1000;
}

/**
 * The reconnect delay a server asks for in the reason of a 1001 close when it shuts down
 * (`server shutting down; retry_after_ms=2140`), in ms; undefined when the reason has none.
 */
export function retryAfterMs(reason) {
  const match = /(?:^|[;\s])retry_after_ms=(\d{1,9})\b/.exec(reason || '');
  return match ? Number(match[1]) : undefined;
}

/** An error reported by the client or the server; `code` is the protocol's error code or close. */
export class ProgressHubError extends Error {
  constructor(message, { code, closeCode, jobId, state } = {}) {
    super(message);
    this.name = 'ProgressHubError';
    if (code !== undefined) this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
    if (jobId !== undefined) this.jobId = jobId;
    if (state !== undefined) this.state = state;
  }
}

const OPEN = 1;
/** Errors after which a subscribe is asked again rather than given up. */
const RETRYABLE_ERRORS = new Set(['store_unavailable', 'rate_limited', 'shutting_down']);

function jwtExpiryMs(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(globalThis.atob(payload + '='.repeat((4 - (payload.length % 4)) % 4)));
    return typeof json.exp === 'number' ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class ProgressClient {
  /**
   * @param {string} baseUrl the server, e.g. "https://hub.example.com" (http(s) or ws(s))
   * @param {object} [options] see index.d.ts
   */
  constructor(baseUrl, options = {}) {
    const url = new URL(baseUrl);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    url.pathname = url.pathname.replace(/\/+$/, '') + '/ws';
    url.search = '';
    url.hash = '';
    this.url = url.toString();
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new TypeError('no WebSocket: pass options.WebSocket (e.g. the ws package on Node)');
    }
    if (options.token === undefined && typeof options.getToken !== 'function') {
      throw new TypeError('pass options.token or options.getToken');
    }
    this._token = options.token;
    this._getToken = options.getToken;
    this._backoff = { initialMs: 500, maxMs: 20000, ...options.backoff };
    this._maxFailedConnects = options.maxFailedConnects ?? 3;
    this._connectTimeoutMs = options.connectTimeoutMs ?? 10000;
    this._refreshMarginMs = options.refreshMarginMs ?? 60000;
    this._heartbeatTimeoutFactor = options.heartbeatTimeoutFactor ?? 2.5;
    this._stableMs = options.stableMs ?? 5000;

    this._listeners = new Map(); // event -> Set<fn>
    this._subs = new Map(); // jobId -> { lastSeq, state, callbacks:Set, pendingId }
    this._requests = new Map(); // id -> { resolve, reject, jobId }
    this._nextId = 1;
    this._ws = null;
    this._authenticated = false;
    this._everOpened = false;
    this._failedConnects = 0;
    this._attempt = 0;
    this._unauthorizedInARow = 0;
    this._stopped = false;
    this._closed = false;
    this._reconnectTimer = null;
    this._watchdog = null;
    this._refreshTimer = null;
    this._connectTimer = null;
    this._heartbeatMs = 25000;
    this._usedToken = undefined;
  }

  /** `connected`, `disconnected`, `error`, `stopped`. */
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return this;
  }

  off(event, fn) {
    this._listeners.get(event)?.delete(fn);
    return this;
  }

  _emit(event, arg) {
    for (const fn of [...(this._listeners.get(event) ?? [])]) {
      try {
        fn(arg);
      } catch (e) {
        if (event !== 'error') this._emit('error', e);
      }
    }
  }

  /** Whether the socket is open and authenticated. */
  get connected() {
    return this._authenticated;
  }

  /**
   * Watches a job. `onUpdate(state, info)` gets every new state once, in seq order, across
   * reconnects; `info.replay` is true for history and the state at (re)subscription.
   */
  watch(jobId, onUpdate, options = {}) {
    if (typeof jobId !== 'string' || !jobId) throw new TypeError('jobId must be a non-empty string');
    if (this._closed) throw new ProgressHubError('client is closed', { code: 'closed' });
    const entry = { onUpdate, onError: options.onError };
    let sub = this._subs.get(jobId);
    if (!sub) {
      sub = { jobId, lastSeq: 0, state: null, callbacks: new Set(), pendingId: null };
      this._subs.set(jobId, sub);
      this._sendSubscribe(sub);
    } else if (sub.state) {
      const state = sub.state;
      queueMicrotask(() => sub.callbacks.has(entry) && this._call(entry, state, { replay: true }));
    }
    sub.callbacks.add(entry);
    this._ensureConnecting();
    let active = true;
    return {
      jobId,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        sub.callbacks.delete(entry);
        if (sub.callbacks.size === 0 && this._subs.get(jobId) === sub) {
          this._subs.delete(jobId);
          if (this._authenticated) this._send({ type: 'unsubscribe', job_id: jobId, id: `u${this._nextId++}` });
        }
      },
    };
  }

  /**
   * Resolves with the job's terminal state; rejects when its status is in `rejectOn`
   * (default failed and cancelled), on `timeoutMs`, an aborted `signal`, or a fatal error.
   */
  waitFor(jobId, options = {}) {
    const rejectOn = options.rejectOn ?? ['failed', 'cancelled'];
    return new Promise((resolve, reject) => {
      let timer;
      let sub;
      const finish = (fn, value) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.off('stopped', onStopped);
        sub?.unsubscribe();
        fn(value);
      };
      const onAbort = () =>
        finish(reject, new ProgressHubError(`waitFor(${jobId}) aborted`, { code: 'aborted', jobId }));
      const onStopped = (err) => finish(reject, err);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort);
      this.on('stopped', onStopped);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () => finish(reject, new ProgressHubError(`waitFor(${jobId}) timed out`, { code: 'timeout', jobId })),
          options.timeoutMs,
        );
      }
      sub = this.watch(
        jobId,
        (state) => {
          if (!TERMINAL_STATUSES.includes(state.status)) return;
          if (rejectOn.includes(state.status)) {
            finish(
              reject,
              new ProgressHubError(`job ${jobId} ${state.status}${state.error ? ': ' + state.error : ''}`, {
                code: state.status,
                jobId,
                state,
              }),
            );
          } else {
            finish(resolve, state);
          }
        },
        { onError: (err) => finish(reject, err) },
      );
      if (this._stopped) onStopped(this._stopError);
    });
  }

  /** Cancels a job over the socket; resolves with `{job_id, status, seq}`. */
  cancel(jobId) {
    return this._request({ type: 'cancel', job_id: jobId }, jobId);
  }

  /** Closes the connection for good. */
  close() {
    this._closed = true;
    this._stop(null, false);
    this._subs.clear();
  }

  // --- connection -------------------------------------------------------------------------------

  _ensureConnecting() {
    if (this._ws || this._reconnectTimer || this._connecting) return;
    if (this._stopped && !this._closed) {
      // A new watch after a stop (e.g. after a new token): start over.
      this._stopped = false;
      this._failedConnects = 0;
      this._unauthorizedInARow = 0;
    }
    if (this._stopped) return;
    this._connect();
  }

  async _currentToken() {
    if (this._getToken) return await this._getToken();
    return this._token;
  }

  async _connect() {
    this._connecting = true;
    let token;
    try {
      token = await this._currentToken();
    } catch (e) {
      this._connecting = false;
      this._emit('error', new ProgressHubError(`getToken failed: ${e?.message ?? e}`, { code: 'token' }));
      this._scheduleReconnect(1006);
      return;
    }
    this._connecting = false;
    if (this._stopped || this._closed) return;
    this._usedToken = token;
    let ws;
    try {
      ws = new this._WebSocket(this.url);
    } catch (e) {
      this._emit('error', new ProgressHubError(`cannot open ${this.url}: ${e.message}`, { code: 'connect' }));
      this._stop(new ProgressHubError(e.message, { code: 'connect' }));
      return;
    }
    this._ws = ws;
    let opened = false;
    let lastError;
    this._connectTimer = setTimeout(() => {
      if (this._ws === ws && !this._authenticated) this._drop(ws, 1006, 'connect timeout', opened);
    }, this._connectTimeoutMs);
    ws.onopen = () => {
      opened = true;
      this._everOpened = true;
      this._failedConnects = 0;
      this._sendOn(ws, { type: 'auth', token, id: 'auth' });
      this._armWatchdog();
    };
    ws.onerror = (event) => {
      lastError = event?.message ?? event?.error?.message;
    };
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      this._drop(ws, event.code, event.reason || lastError || '', opened);
    };
    ws.onmessage = (event) => {
      if (this._ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data));
      } catch {
        return;
      }
      this._armWatchdog();
      this._onMessage(msg, token);
    };
  }

  /** Handles the end of socket `ws`: reports it and reconnects or stops by the close code. */
  _drop(ws, code, reason, opened) {
    if (this._ws !== ws) return;
    this._detach(ws, code);
    const wasAuthenticated = this._authenticated;
    this._authenticated = false;
    // The back-off starts over only after a connection that lasted: a server that accepts and
    // then drops every connection at once is not hammered.
    if (wasAuthenticated && Date.now() - this._authenticatedAt >= this._stableMs) this._attempt = 0;
    for (const [id, req] of this._requests) {
      if (!req.sent) continue; // waits for the next connection
      this._requests.delete(id);
      req.reject(new ProgressHubError(`connection closed (${code}) before the reply`, { code: 'disconnected', closeCode: code }));
    }
    if (this._closed) return;
    if (!opened && !this._everOpened) {
      this._failedConnects++;
      if (this._failedConnects >= this._maxFailedConnects) {
        const err = new ProgressHubError(
          `the server refused the connection ${this._failedConnects} times before it opened ` +
            `(check the server's allowed-origin setting for this page's origin, the URL, and that it is up)` +
            (reason ? `: ${reason}` : ''),
          { code: 'connection_refused', closeCode: code },
        );
        this._emit('disconnected', { code, reason, willReconnect: false, wasConnected: false });
        this._emit('error', err);
        this._stop(err);
        return;
      }
    }
    let reconnect = shouldReconnect(code);
    if (code === 4401) {
      this._unauthorizedInARow++;
      reconnect = !!this._getToken && this._unauthorizedInARow < 2;
    }
    const delayMs = reconnect ? this._nextDelay(code, reason) : undefined;
    this._emit('disconnected', { code, reason, willReconnect: reconnect, delayMs, wasConnected: wasAuthenticated });
    if (!reconnect) {
      const err = new ProgressHubError(
        `connection closed with ${code}${reason ? ' (' + reason + ')' : ''}; not reconnecting` +
          (code === 4401 ? ': the token was refused or expired, give a new one' : ''),
        { code: code === 4401 ? 'unauthorized' : 'closed', closeCode: code },
      );
      this._emit('error', err);
      this._stop(err);
      return;
    }
    this._scheduleReconnect(code, delayMs);
  }

  _detach(ws, code) {
    clearTimeout(this._connectTimer);
    clearTimeout(this._watchdog);
    clearTimeout(this._refreshTimer);
    this._watchdog = this._refreshTimer = this._connectTimer = null;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    ws.onerror = () => {}; // an error after we gave up on it must not throw (ws on Node)
    this._ws = null;
    if (ws.readyState === 0 || ws.readyState === OPEN) {
      try {
        if (typeof ws.terminate === 'function') ws.terminate();
        else ws.close(code >= 3000 && code <= 4999 ? code : 1000);
      } catch {
        /* already closing */
      }
    }
  }

  _nextDelay(code, reason) {
    const cap = Math.min(this._backoff.maxMs, this._backoff.initialMs * 2 ** this._attempt);
    this._attempt++;
    let delay = Math.random() * cap; // full jitter
    if (code === 4429) delay = Math.max(delay, this._backoff.initialMs);
    // A stopping server spreads its clients' returns over its drain window: wait at least the
    // hint, and add the usual jitter on top so that equal hints still do not coincide.
    if (code === 1001) delay += retryAfterMs(reason) ?? 0;
    return Math.round(delay);
  }

  _scheduleReconnect(code, delayMs = this._nextDelay(code)) {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (!this._stopped && !this._closed) this._connect();
    }, delayMs);
  }

  _stop(err, emit = true) {
    this._stopped = true;
    this._stopError = err;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    if (this._ws) this._detach(this._ws, 1000);
    this._authenticated = false;
    for (const sub of this._subs.values()) sub.pendingId = null;
    for (const [id, req] of this._requests) {
      this._requests.delete(id);
      req.reject(err ?? new ProgressHubError('client closed before the reply', { code: 'closed' }));
    }
    if (emit && err) this._emit('stopped', err);
  }

  _armWatchdog() {
    clearTimeout(this._watchdog);
    const ws = this._ws;
    const ms = this._heartbeatMs * this._heartbeatTimeoutFactor;
    this._watchdog = setTimeout(() => {
      if (this._ws === ws && ws) this._drop(ws, 1006, `no message for ${ms} ms (missed heartbeats)`, true);
    }, ms);
  }

  _scheduleRefresh(expiresAtMs, minDelayMs = 0) {
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    if (!this._getToken || !Number.isFinite(expiresAtMs)) return;
    const left = expiresAtMs - Date.now();
    const margin = Math.min(this._refreshMarginMs, Math.max(0, left / 2));
    const ws = this._ws;
    this._refreshTimer = setTimeout(() => this._refresh(ws), Math.max(minDelayMs, left - margin));
  }

  async _refresh(ws) {
    let token;
    try {
      token = await this._getToken();
    } catch (e) {
      this._emit('error', new ProgressHubError(`getToken failed: ${e?.message ?? e}`, { code: 'token' }));
      if (this._ws === ws) this._refreshTimer = setTimeout(() => this._refresh(ws), 5000);
      return;
    }
    if (this._ws !== ws || !this._authenticated) return;
    this._usedToken = token;
    this._sendOn(ws, { type: 'auth', token, id: 'refresh' });
  }

  // --- messages ---------------------------------------------------------------------------------

  _onMessage(msg) {
    switch (msg.type) {
      case 'connection_established':
        if (typeof msg.heartbeat_interval === 'number' && msg.heartbeat_interval > 0) {
          this._heartbeatMs = msg.heartbeat_interval * 1000;
          this._armWatchdog();
        }
        this._connectionId = msg.connection_id;
        return;
      case 'authenticated': {
        // Refresh before the token's own exp (the server's expires_at adds its clock skew).
        const expiresAt = jwtExpiryMs(this._usedToken ?? '') ?? (msg.expires_at ? Date.parse(msg.expires_at) : NaN);
        // After a refresh, never ask again sooner than 1 s (a token source handing out tokens
        // that are already expired must not spin).
        this._scheduleRefresh(expiresAt, msg.id === 'refresh' ? 1000 : 0);
        if (msg.id === 'refresh') return;
        if (this._authenticated) return;
        clearTimeout(this._connectTimer);
        this._authenticated = true;
        this._authenticatedAt = Date.now();
        this._unauthorizedInARow = 0;
        for (const sub of this._subs.values()) {
          sub.pendingId = null;
          this._sendSubscribe(sub);
        }
        for (const req of this._requests.values()) if (!req.sent) this._sendRequest(req);
        this._emit('connected', { connectionId: this._connectionId, heartbeatInterval: this._heartbeatMs / 1000 });
        return;
      }
      case 'subscribed': {
        const sub = this._subs.get(msg.job_id);
        if (!sub || (msg.id && msg.id !== sub.pendingId)) return;
        sub.pendingId = null;
        if (msg.recovered === false && sub.lastSeq > 0 && msg.seq < sub.lastSeq) {
          // The server could not honour `since` (it is behind us): its states are the truth now.
          sub.lastSeq = 0;
        }
        return;
      }
      case 'progress': {
        const sub = this._subs.get(msg.job_id);
        if (!sub || typeof msg.seq !== 'number' || msg.seq <= sub.lastSeq) return;
        sub.lastSeq = msg.seq;
        const { type, replay, ...state } = msg;
        sub.state = state;
        for (const entry of [...sub.callbacks]) this._call(entry, state, { replay: replay === true });
        return;
      }
      case 'cancelled':
      case 'pong': {
        const req = this._requests.get(msg.id);
        if (req) {
          this._requests.delete(msg.id);
          const { type, id, ...rest } = msg;
          req.resolve(rest);
        }
        return;
      }
      case 'error':
        this._onError(msg);
        return;
      case 'unsubscribed': {
        // Unasked (no id): the server ended the subscription because the job was deleted; the
        // error that follows cannot name the job, this does. Our own unsubscribes carry an id.
        const sub = this._subs.get(msg.job_id);
        if (msg.id !== undefined || !sub) return;
        this._subs.delete(msg.job_id);
        const err = new ProgressHubError(`job was deleted: ${msg.job_id}`, { code: 'job_not_found', jobId: msg.job_id });
        for (const entry of sub.callbacks) entry.onError?.(err);
        return;
      }
      case 'broadcast': {
        // An administrator's message to a watched job's watchers (not a state: no seq bookkeeping).
        if (!this._subs.has(msg.job_id)) return;
        const { type, ...message } = msg;
        this._emit('broadcast', message);
        return;
      }
      default:
        return; // heartbeat and future types
    }
  }

  _onError(msg) {
    const err = new ProgressHubError(msg.error || msg.code, { code: msg.code });
    const req = msg.id !== undefined ? this._requests.get(msg.id) : undefined;
    if (req) {
      this._requests.delete(msg.id);
      if (req.jobId !== undefined) err.jobId = req.jobId;
      req.reject(err);
      return;
    }
    if (msg.id === 'refresh') {
      this._emit('error', new ProgressHubError(`token refresh refused: ${err.message}`, { code: msg.code }));
      return;
    }
    if (msg.id !== undefined) {
      for (const sub of this._subs.values()) {
        if (sub.pendingId !== msg.id) continue;
        err.jobId = sub.jobId;
        if (RETRYABLE_ERRORS.has(msg.code)) {
          // The server could not serve it now: ask again later on this connection (a new
          // connection resubscribes anyway).
          const ws = this._ws;
          const delay = this._nextDelay(4429);
          setTimeout(() => {
            if (this._ws === ws && this._authenticated && this._subs.get(sub.jobId) === sub && sub.pendingId === msg.id) {
              this._sendSubscribe(sub);
            }
          }, delay);
        } else {
          this._subs.delete(sub.jobId);
          for (const entry of sub.callbacks) entry.onError?.(err);
        }
        break;
      }
    }
    if (msg.code !== 'not_subscribed') this._emit('error', err);
  }

  _call(entry, state, info) {
    try {
      entry.onUpdate(state, info);
    } catch (e) {
      this._emit('error', e);
    }
  }

  _sendSubscribe(sub) {
    if (!this._authenticated) return;
    sub.pendingId = `s${this._nextId++}`;
    const msg = { type: 'subscribe', job_id: sub.jobId, id: sub.pendingId };
    if (sub.lastSeq > 0) msg.since = sub.lastSeq;
    this._send(msg);
  }

  _request(msg, jobId) {
    if (this._closed) return Promise.reject(new ProgressHubError('client is closed', { code: 'closed' }));
    return new Promise((resolve, reject) => {
      const req = { id: `r${this._nextId++}`, msg, jobId, resolve, reject, sent: false };
      this._requests.set(req.id, req);
      if (this._authenticated) this._sendRequest(req);
      else this._ensureConnecting();
    });
  }

  _sendRequest(req) {
    req.sent = true;
    this._send({ ...req.msg, id: req.id });
  }

  _send(msg) {
    if (this._ws) this._sendOn(this._ws, msg);
  }

  _sendOn(ws, msg) {
    if (ws.readyState === OPEN) ws.send(JSON.stringify(msg));
  }
}
