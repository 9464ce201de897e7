// Live job states over one WebSocket (/ws) through the JavaScript client, which authenticates
// with a first `auth` message: the token never appears in a URL. The page subscribes only to the
// jobs it shows; `show(ids, onUpdate)` swaps that set.
import { ProgressClient } from './client/index.js';

export class LiveJobs {
  /**
   * @param {string} token
   * @param {{onConnection: (connected: boolean, detail: string) => void, onFatal: (err: Error) => void}} hooks
   */
  constructor(token, hooks) {
    this._client = new ProgressClient(location.origin, { token });
    this._subs = new Map(); // jobId -> subscription
    this._onUpdate = () => {};
    this._client.on('connected', () => hooks.onConnection(true, 'live'));
    this._client.on('disconnected', (e) => hooks.onConnection(false, e.willReconnect ? 'reconnecting' : 'offline'));
    this._client.on('stopped', (err) => hooks.onFatal(err));
    this._client.on('broadcast', (msg) => this._onBroadcast(msg));
    this._onBroadcast = () => {};
  }

  /** Watches exactly `ids` from now on; each new state goes to `onUpdate(state)`. */
  show(ids, onUpdate) {
    this._onUpdate = onUpdate;
    const wanted = new Set(ids);
    for (const [id, sub] of this._subs) {
      if (!wanted.has(id)) {
        sub.unsubscribe();
        this._subs.delete(id);
      }
    }
    for (const id of wanted) {
      if (this._subs.has(id)) continue;
      this._subs.set(
        id,
        this._client.watch(id, (state) => this._onUpdate(state), {
          onError: () => this._subs.delete(id), // gone (deleted) or not ours: nothing to show
        }),
      );
    }
  }

  /** An administrator's message to the watchers of a job shown: `onBroadcast({job_id, data, ...})`. */
  onBroadcast(fn) {
    this._onBroadcast = fn;
  }

  /** How many jobs the page watches now. */
  get watching() {
    return this._subs.size;
  }

  close() {
    this._client.close();
    this._subs.clear();
  }
}
