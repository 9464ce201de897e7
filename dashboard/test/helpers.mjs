// Test helpers: a real progress-hub server (the jar through $PROGRESS_HUB) on a free port with its
// data in a temporary directory, tokens signed with its secret, REST calls, and Chromium pages
// that record what the browser reports (console, page errors, CSP violations, requests).
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..');
export const HUB = process.env.PROGRESS_HUB || resolve(here, '../../progress-hub');
export const SCREENSHOTS = join(ROOT, 'target/screenshots');
const SECRET = 'dashboard-test-secret-' + randomBytes(16).toString('hex');

const b64url = (value) => Buffer.from(value).toString('base64url');

/** An HS256 JWT signed with the test servers' secret. */
export function mintToken({ sub = 'admin', role = 'admin', ttlSeconds = 3600, secret = SECRET } = {}) {
  const payload = { sub, role, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' })) + '.' + b64url(JSON.stringify(payload));
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url');
}

export const ADMIN = mintToken({ sub: 'ops', role: 'admin' });
export const PUBLISHER = mintToken({ sub: 'worker', role: 'publisher' });

function freePort() {
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

/** A `progress-hub serve` process; `stop()` kills it and removes its data directory. */
export class Server {
  static async start(args = []) {
    const server = new Server();
    server.port = await freePort();
    server.dataDir = mkdtempSync(join(tmpdir(), 'hub-dashboard-'));
    server.output = '';
    const proc = spawn(HUB, ['serve', '--port', String(server.port), '--data-dir', server.dataDir, ...args], {
      env: { ...process.env, PROGRESS_HUB_JWT_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.proc = proc;
    const keep = (chunk) => (server.output = (server.output + chunk).slice(-20000));
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    server.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    let ended = null;
    server.exited.then((e) => (ended = e));
    const end = Date.now() + 60000;
    for (;;) {
      if (ended) throw new Error(`server exited (${JSON.stringify(ended)}) before /health:\n${server.output}`);
      try {
        if ((await fetch(`${server.url}/health`)).ok) return server;
      } catch {
        /* not up yet */
      }
      if (Date.now() > end) throw new Error(`server not healthy within 60 s:\n${server.output}`);
      await sleep(100);
    }
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
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

  createJob(id, extra = {}, token = PUBLISHER) {
    return this.api('POST', '/api/jobs', { id, ...extra }, token);
  }

  publish(id, event) {
    return this.api('POST', `/api/jobs/${id}/events`, event, PUBLISHER);
  }
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

/**
 * A new page (own context: own sessionStorage) that records console messages, page errors, CSP
 * violations (from the document's securitypolicyviolation events), request URLs and WebSocket URLs.
 */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const seen = { console: [], errors: [], requests: [], sockets: [] };
  page.on('console', (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('websocket', (ws) => seen.sockets.push(ws.url()));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  page.seen = seen;
  page.violations = () => page.evaluate(() => window.__violations);
  page.closeAll = () => context.close();
  return page;
}

export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name);
  await page.screenshot({ path, fullPage });
  return path;
}

/** Waits until the jobs table shows a load newer than `after` (ms). */
export async function waitForJobsLoad(page, after = 0) {
  await page.waitForFunction((t) => Number(document.getElementById('jobs-view').dataset.loaded ?? 0) > t, after);
}

/** The job ids in the jobs table, top to bottom. */
export function tableIds(page) {
  return page.$$eval('#jobs-body tr[data-job]', (rows) => rows.map((r) => r.dataset.job));
}

/**
 * Visible text whose contrast with its background is under WCAG AA (4.5:1, 3:1 for large text),
 * as `tag#id.class "text" ratio` lines.
 */
export function lowContrastText(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const [r, g, b, a = 1] = /rgba?\(([^)]+)\)/.exec(c)[1].split(/,\s*/).map(Number);
      return { r, g, b, a };
    };
    const channel = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const luminance = ({ r, g, b }) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const low = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!el.checkVisibility() || el.closest('.visually-hidden')) continue;
      if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
      const style = getComputedStyle(el);
      const [light, dark] = [luminance(parse(style.color)), luminance(background(el))].sort((x, y) => y - x);
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) {
        low.push(`${el.tagName}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 24)}" ${ratio.toFixed(2)}`);
      }
    }
    return low;
  });
}
