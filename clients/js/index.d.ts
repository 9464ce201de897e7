// Types of the progress-hub JavaScript client (index.js). Protocol: docs/protocol.md (v1).

export type JobStatus = 'pending' | 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

/** A job's state, as in `progress` messages (without `type` and `replay`). */
export interface JobState {
  job_id: string;
  /** The job's event number: 1 at creation, +1 per accepted event. */
  seq: number;
  status: JobStatus;
  /** 0-100. */
  progress: number;
  stage: string | null;
  message: string | null;
  eta_seconds: number | null;
  elapsed_seconds: number | null;
  /** ISO-8601 UTC. */
  timestamp: string;
  metadata: Record<string, unknown>;
  /** Only when completed. */
  result?: unknown;
  /** Only when failed. */
  error?: string;
}

export interface UpdateInfo {
  /** True for history and the state sent at (re)subscription. */
  replay: boolean;
}

/** Any WebSocket constructor with the browser's interface (the `ws` package's on Node). */
export interface WebSocketConstructor {
  new (url: string, ...rest: any[]): WebSocketLike;
}

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
}

export interface BackoffOptions {
  /** Cap of the first retry's delay (default 500). */
  initialMs?: number;
  /** Largest cap (default 20000). Each delay is uniformly random below the cap (full jitter). */
  maxMs?: number;
}

export interface ProgressClientOptions {
  /** A fixed token (HS256 JWT or one from the identity provider). */
  token?: string;
  /** Called before each connect and before the token runs out; its token is sent with `auth`. */
  getToken?: () => string | Promise<string>;
  /** Required where there is no global WebSocket (Node 20): `import WebSocket from 'ws'`. */
  WebSocket?: WebSocketConstructor;
  backoff?: BackoffOptions;
  /** Connects that close before they open, with none open before, after which the client stops (3). */
  maxFailedConnects?: number;
  /** A connect not authenticated by then is dropped and retried (10000). */
  connectTimeoutMs?: number;
  /** How long before the token's exp `getToken` is asked (60000, at most half the time left). */
  refreshMarginMs?: number;
  /** The link is taken as dead after this many heartbeat intervals without a message (2.5). */
  heartbeatTimeoutFactor?: number;
  /** A connection that lasted this long resets the back-off (5000). */
  stableMs?: number;
}

export interface WatchOptions {
  /** The server refused the subscription (e.g. `job_not_found`); the watch has ended. */
  onError?: (error: ProgressHubError) => void;
}

export interface Subscription {
  readonly jobId: string;
  /** Stops this watcher; the job is unsubscribed when it was the last one. Idempotent. */
  unsubscribe(): void;
}

export interface WaitForOptions {
  /** Terminal statuses that reject (default `['failed', 'cancelled']`). */
  rejectOn?: JobStatus[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CancelReply {
  job_id: string;
  status: JobStatus;
  seq: number;
}

export interface ConnectedEvent {
  connectionId: string | undefined;
  /** Seconds, from `connection_established`. */
  heartbeatInterval: number;
}

export interface DisconnectedEvent {
  /** The close code; 1006 for a dropped link, a connect timeout or missed heartbeats. */
  code: number;
  reason: string;
  willReconnect: boolean;
  /** The back-off before the next connect, when `willReconnect`. */
  delayMs?: number;
  /** Whether the connection had been authenticated. */
  wasConnected: boolean;
}

/** An administrator's message to the watchers of a job this client watches. */
export interface BroadcastMessage {
  job_id: string;
  /** The job's status and seq when the message was sent. */
  status: JobStatus;
  seq: number;
  /** Any JSON the administrator sent. */
  data: unknown;
  timestamp: string;
}

export interface ProgressClientEvents {
  broadcast: BroadcastMessage;
  connected: ConnectedEvent;
  disconnected: DisconnectedEvent;
  error: ProgressHubError | Error;
  /** The client gave up (terminal close code, refused connects); a new watch() starts over. */
  stopped: ProgressHubError;
}

export class ProgressHubError extends Error {
  constructor(
    message: string,
    details?: { code?: string; closeCode?: number; jobId?: string; state?: JobState },
  );
  /**
   * A protocol error code (`job_not_found`, `unauthorized`, ...), a terminal status for
   * `waitFor` (`failed`, `cancelled`), or one of `connection_refused`, `closed`, `disconnected`,
   * `timeout`, `aborted`, `token`.
   */
  code?: string;
  closeCode?: number;
  jobId?: string;
  /** The terminal state that made `waitFor` reject. */
  state?: JobState;
}

export declare const TERMINAL_STATUSES: readonly JobStatus[];

/** Whether to reconnect after a close with `code` (protocol.md, "Close codes"). */
export declare function shouldReconnect(code: number): boolean;

/**
 * The reconnect delay a server asks for in the reason of a 1001 close when it shuts down
 * (`server shutting down; retry_after_ms=2140`), in ms; undefined when the reason has none.
 */
export declare function retryAfterMs(reason: string | undefined): number | undefined;

export class ProgressClient {
  constructor(baseUrl: string, options: ProgressClientOptions);
  /** The WebSocket URL (`ws(s)://host/ws`). */
  readonly url: string;
  /** Whether the socket is open and authenticated. */
  readonly connected: boolean;
  on<E extends keyof ProgressClientEvents>(event: E, listener: (arg: ProgressClientEvents[E]) => void): this;
  off<E extends keyof ProgressClientEvents>(event: E, listener: (arg: ProgressClientEvents[E]) => void): this;
  watch(jobId: string, onUpdate: (state: JobState, info: UpdateInfo) => void, options?: WatchOptions): Subscription;
  waitFor(jobId: string, options?: WaitForOptions): Promise<JobState>;
  cancel(jobId: string): Promise<CancelReply>;
  /** Closes the connection for good. */
  close(): void;
}
