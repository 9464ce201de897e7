// Test helpers: real progress-hub servers (the jar through $PROGRESS_HUB), tokens, REST calls and
// a TCP proxy that can cut or freeze connections.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export { WebSocket };

const here = dirname(fileURLToPath(import.meta.url));
export const HUB = process.env.PROGRESS_HUB || resolve(here, '../../../progress-hub');
export const SECRET = 'client-js-test-secret-' + randomBytes(16).toString('hex');

const b64url = (value) => Buffer.from(value).toString('base64url');

/** An HS256 JWT signed with SECRET. */
export function mintToken({ sub = 'alice', role = 'publisher', ttlSeconds = 3600, exp, jobs } = {}) {
  const payload = { sub, role, exp: exp ?? Math.floor(Date.now() / 1000) + ttlSeconds };
  if (jobs) payload.jobs = jobs;
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' })) + '.' + b64url(JSON.stringify(payload));
  return head + '.' + createHmac('sha256', SECRET).update(head).digest('base64url');
}

export const ADMIN = mintToken({ sub: 'admin', role: 'admin', ttlSeconds: 7200 });

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value, or throws after `ms`. */
export async function until(check, ms = 15000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * A progress-hub server process. `start()` spawns `$PROGRESS_HUB serve` on `port` with `dataDir`
 * and waits for /health; `kill()` sends SIGKILL; `start()` again reuses port and data dir.
 */
export class Server {
  constructor({ port, dataDir, args = [] } = {}) {
    this.port = port;
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'hub-js-'));
    this.ownsDir = !dataDir;
    this.args = args;
    this.proc = null;
    this.output = '';
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options = {}) {
    const server = new Server({ ...options, port: options.port ?? (await freePort()) });
    await server.start();
    return server;
  }

  async start() {
    const args = ['serve', '--port', String(this.port), '--data-dir', this.dataDir, ...this.args];
    const proc = spawn(HUB, args, {
      env: { ...process.env, PROGRESS_HUB_JWT_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const keep = (chunk) => {
      this.output = (this.output + chunk).slice(-20000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    this.exited = exited;
    const end = Date.now() + 60000;
    let ended = null;
    exited.then((e) => (ended = e));
    for (;;) {
      if (ended) throw new Error(`server exited (${JSON.stringify(ended)}) before /health:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/health`);
        if (res.ok) return this;
      } catch {
        /* not up yet */
      }
      if (Date.now() > end) throw new Error(`server not healthy within 60 s:\n${this.output}`);
      await sleep(100);
    }
  }

  async kill(signal = 'SIGKILL') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }

  async stop() {
    await this.kill('SIGKILL');
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async api(method, path, body, token = ADMIN) {
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${text}`), { status: res.status, body: json });
    return json;
  }

  createJob(id, extra = {}) {
    return this.api('POST', '/api/jobs', { id, ...extra });
  }

  publish(id, event) {
    return this.api('POST', `/api/jobs/${id}/events`, event);
  }
}

/**
 * A TCP proxy in front of a server: `cut()` destroys every connection (the client sees 1006),
 * `freeze()` keeps them open but forwards nothing more (a dead link), `thaw()` undoes it for new
 * connections.
 */
export class Proxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.frozen = false;
    this.connections = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen() {
    this.port = await freePort();
    this.server = net.createServer((client) => {
      this.connections++;
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      const pair = { client, upstream, frozen: false };
      this.pairs.add(pair);
      const forward = (from, to) =>
        from.on('data', (chunk) => {
          if (!pair.frozen) to.write(chunk);
        });
      forward(client, upstream);
      forward(upstream, client);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise((r) => this.server.listen(this.port, '127.0.0.1', r));
    return this;
  }

  cut() {
    for (const pair of [...this.pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
  }

  freeze() {
    for (const pair of this.pairs) pair.frozen = true;
  }

  close() {
    this.cut();
    return new Promise((r) => this.server.close(r));
  }
}

/** Records what a client emits. */
export function record(client) {
  const log = { connected: 0, disconnected: [], errors: [] };
  client.on('connected', () => log.connected++);
  client.on('disconnected', (e) => log.disconnected.push(e));
  client.on('error', (e) => log.errors.push(e));
  return log;
}

/** Checks that the seqs seen are strictly increasing (no duplicate, no rewind). */
export function assertIncreasing(assert, states) {
  for (let i = 1; i < states.length; i++) {
    assert.ok(states[i].seq > states[i - 1].seq, `seq ${states[i].seq} after ${states[i - 1].seq}`);
  }
}

/**
 * The blocks of a markdown file marked `<!-- example: NAME -->` (the line just before the fence),
 * as a Map from NAME to `{ lang, code }`.
 */
export function docExamples(markdown) {
  const found = new Map();
  for (const [, name, lang, code] of markdown.matchAll(/<!-- example: ([\w-]+) -->\n```(\w+)\n([\s\S]*?)\n```/g)) {
    found.set(name, { lang, code });
  }
  return found;
}
