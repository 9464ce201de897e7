// In Chromium (playwright-core driving /usr/bin/chromium): the example page and the React hook,
// served from a tiny local HTTP server whose origin the progress-hub server allows; and the same
// page from an origin it does not allow, whose refused handshakes end in one clear error.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { Server, docExamples, freePort, mintToken } from './helpers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css' };

/**
 * Serves files under clients/js (the example imports ../index.js), and `routes` (path -> [type,
 * body]) before them; keeps every request line.
 */
async function staticServer(routes = new Map()) {
  const port = await freePort();
  const requests = [];
  const srv = http.createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url} referer=${req.headers.referer ?? ''}`);
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (routes.has(path)) {
      const [type, body] = routes.get(path);
      res.writeHead(200, { 'content-type': type }).end(body);
      return;
    }
    const file = join(root, path);
    if (!file.startsWith(root + '/') || file.includes('node_modules')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => srv.close(r)) };
}

let hub;
let site;
let otherSite;
let browser;
const token = mintToken({ sub: 'viewer', role: 'admin' });

// README.md's browser and React examples, served with this test's server in place of the
// placeholder URL, and a token at /hub-token where the examples' getToken asks for it.
const PLACEHOLDER = 'https://hub.example.com';
const readme = docExamples(await readFile(join(root, 'README.md'), 'utf8'));
const siteRoutes = new Map();

async function serveReadmeExamples() {
  for (const name of ['js-browser', 'js-react']) assert.ok(readme.has(name), `README.md has no example ${name}`);
  const html = readme.get('js-browser').code.replaceAll(PLACEHOLDER, hub.url);
  siteRoutes.set('/doc-examples/js-browser.html', ['text/html', `<!doctype html><meta charset="utf-8">\n${html}`]);
  siteRoutes.set('/doc-examples/progress-hub/index.js', ['text/javascript', await readFile(join(root, 'index.js'))]);
  siteRoutes.set('/hub-token', ['text/plain', token]);
  const entry = join(root, 'target/doc-examples/js-react.jsx');
  await mkdir(dirname(entry), { recursive: true });
  await writeFile(
    entry,
    readme.get('js-react').code.replaceAll(PLACEHOLDER, hub.url) +
      `\nimport { createRoot as mountRoot } from 'react-dom/client';\n` +
      `mountRoot(document.getElementById('root')).render(<JobBar jobId="job-42" />);\n`,
  );
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    jsx: 'automatic',
    outfile: join(root, 'target/doc-examples/js-react.js'),
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'warning',
  });
  siteRoutes.set('/doc-examples/js-react.html', [
    'text/html',
    '<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/target/doc-examples/js-react.js"></script>',
  ]);
}

before(async () => {
  [site, otherSite] = await Promise.all([staticServer(siteRoutes), staticServer()]);
  const [started] = await Promise.all([
    Server.start({ args: ['--allowed-origin', site.origin] }),
    build({
      entryPoints: [join(root, 'test/browser/react-app.jsx')],
      bundle: true,
      format: 'esm',
      jsx: 'automatic',
      outfile: join(root, 'target/browser/react-app.js'),
      define: { 'process.env.NODE_ENV': '"development"' },
      logLevel: 'warning',
    }),
  ]);
  hub = started;
  await serveReadmeExamples();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  await site?.close();
  await otherSite?.close();
});

async function open(url) {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { page, logs };
}

const query = (job) => `server=${encodeURIComponent(hub.url)}&token=${token}&job=${job}`;
/** The example page's link: the token in the fragment, which the browser never sends. */
const example = (origin, job) =>
  `${origin}/examples/watch-job.html?server=${encodeURIComponent(hub.url)}&job=${job}#token=${token}`;

describe('in Chromium', { concurrency: true }, () => {
  test('the example page shows a job to its end, every state once', async () => {
    await hub.createJob('page-1');
    await hub.publish('page-1', { progress: 5, stage: 'download' });
    const { page, logs } = await open(example(site.origin, 'page-1'));
    try {
      await page.waitForFunction(() => document.getElementById('status').textContent === 'in_progress');
      await hub.publish('page-1', { progress: 60, stage: 'encode', message: 'half way' });
      await page.waitForFunction(() => document.getElementById('stage').textContent === 'encode');
      await hub.publish('page-1', { status: 'completed', result: {} });
      await page.waitForFunction(() => document.getElementById('status').textContent === 'completed');
      assert.equal(await page.locator('#bar').evaluate((el) => el.value), 100);
      assert.equal(await page.locator('#connection').textContent(), 'connected');
      assert.deepEqual(
        logs.filter((l) => l.startsWith('state ')),
        ['state 2 in_progress 5', 'state 3 in_progress 60', 'state 4 completed 100'],
      );
      assert.equal(await page.locator('#error').textContent(), '');
      assert.ok(!page.url().includes(token), `the token is dropped from the address bar: ${page.url()}`);
      // The page's own requests: the page, and what it loads (their Referer names it).
      const mine = site.requests.filter((line) => line.includes('watch-job.html'));
      const leaked = mine.filter((line) => line.includes(token));
      assert.deepEqual(leaked, [], 'the token reached the page server (path, query or Referer)');
      assert.ok(mine.some((line) => line.startsWith('GET /index.js ')), mine.join('\n'));
    } finally {
      await page.close();
    }
  });

  test('the example page from an origin the server does not allow reports the refusal and stops', async () => {
    await hub.createJob('page-2');
    const { page, logs } = await open(example(otherSite.origin, 'page-2'));
    try {
      await page.waitForFunction(() => document.getElementById('error').textContent !== '', null, { timeout: 15000 });
      const error = await page.locator('#error').textContent();
      assert.match(error, /refused the connection/);
      assert.match(error, /allowed-origin/);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(logs.filter((l) => l.startsWith('error connection_refused')).length, 1, 'reported once, then stopped');
      assert.equal(logs.filter((l) => l.startsWith('state ')).length, 0);
    } finally {
      await page.close();
    }
  });

  test("README.md's browser and React examples show job-42's progress", async () => {
    await hub.createJob('job-42');
    const pages = await Promise.all(['js-browser', 'js-react'].map((name) => open(`${site.origin}/doc-examples/${name}.html`)));
    const bars = () => Promise.all(pages.map(({ page }) => page.locator('progress').evaluate((el) => el.value)));
    try {
      await hub.publish('job-42', { status: 'in_progress', progress: 40 });
      for (const { page } of pages) await page.waitForFunction(() => document.querySelector('progress')?.value === 40);
      await hub.publish('job-42', { status: 'completed' });
      for (const { page } of pages) await page.waitForFunction(() => document.querySelector('progress')?.value === 100);
      assert.deepEqual(await bars(), [100, 100]);
      for (const { logs } of pages) assert.deepEqual(logs.filter((l) => /error/i.test(l)), []);
    } finally {
      await Promise.all(pages.map(({ page }) => page.close()));
    }
  });

  test('useJobProgress renders a job in StrictMode, follows a change of job id, and shows job_not_found', async () => {
    await hub.createJob('react-1');
    await hub.createJob('react-2');
    await hub.publish('react-2', { status: 'failed', error: 'boom' });
    const { page, logs } = await open(`${site.origin}/test/browser/react.html?${query('react-1')}`);
    try {
      const text = (id) => page.locator(`#${id}`).textContent();
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'pending');
      assert.equal(await page.locator('#job').getAttribute('data-connected'), 'true');
      await hub.publish('react-1', { progress: 30, stage: 'render' });
      await page.waitForFunction(() => document.getElementById('stage').textContent === 'render');
      assert.equal(await text('progress'), '30');
      await hub.publish('react-1', { status: 'completed' });
      await page.waitForFunction(() => document.getElementById('job').dataset.done === 'true');
      assert.equal(await text('status'), 'completed');
      assert.equal(await text('seq'), '3');

      await page.evaluate(() => window.showJob('react-2'));
      await page.waitForFunction(() => document.getElementById('status').textContent === 'failed');
      assert.equal(await page.locator('#job').getAttribute('data-job'), 'react-2');

      await page.evaluate(() => window.showJob('react-missing'));
      await page.waitForFunction(() => document.getElementById('error').textContent === 'job_not_found');
      assert.equal(await text('status'), 'none');
      assert.deepEqual(logs.filter((l) => l.startsWith('pageerror')), []);
    } finally {
      await page.close();
    }
  });
});
