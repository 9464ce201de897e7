// The operator's side of the dashboard, on the operations API (docs/operations.md): live figures
// from /ws/monitor, jobs appearing as the monitor announces them, a job's watchers and a message
// to them, ending a connection from the connections view, and a store of 10,000 jobs.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ADMIN, Server, launchChromium, mintToken, newPage, waitForJobsLoad } from './helpers.mjs';

let hub;
let browser;
const pages = [];

before(async () => {
  [hub, browser] = await Promise.all([Server.start(), launchChromium()]);
});

// Each test's pages close after it: a page left open would keep watching jobs and count as a
// watcher or a connection in the next test.
afterEach(async () => {
  while (pages.length) await pages.pop().closeAll().catch(() => {});
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

async function open(hash = '', token = ADMIN) {
  const page = await newPage(browser);
  pages.push(page);
  await page.goto(`${hub.url}/${hash}`);
  if (token) {
    await page.evaluate((t) => sessionStorage.setItem('progress-hub.token', t), token);
    await page.reload();
  }
  return page;
}

/**
 * Another client, in its own page of the same origin: a bare WebSocket on /ws that authenticates as
 * `token` and subscribes to `jobId`; what it receives collects in `window.__msgs`, its close in
 * `window.__closed`.
 */
async function watcher(token, jobId) {
  const page = await open('', null);
  await page.evaluate(
    ([token, jobId]) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
        window.__msgs = [];
        window.__closed = null;
        ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
        ws.onmessage = (e) => {
          const msg = JSON.parse(e.data);
          window.__msgs.push(msg);
          if (msg.type === 'authenticated') ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId, id: 's1' }));
          if (msg.type === 'subscribed') resolve();
        };
        ws.onclose = (e) => {
          window.__closed = { code: e.code, reason: e.reason };
          reject(new Error(`closed ${e.code} ${e.reason}`));
        };
      }),
    [token, jobId],
  );
  return page;
}

const monitorLive = (page) =>
  page.waitForFunction(() => document.getElementById('fig-source').textContent === 'live from /ws/monitor', null, {
    timeout: 15000,
  });

describe('the dashboard on the operations API', () => {
  test('shows live figures from /ws/monitor, authenticated by message', async () => {
    const page = await open();
    await waitForJobsLoad(page);
    await monitorLive(page);
    await page.waitForFunction(() => Number(document.getElementById('fig-connections').textContent) >= 1);
    assert.match(await page.locator('#fig-subscriptions').textContent(), /^\d+$/);
    assert.match(await page.locator('#fig-deliveries').textContent(), /^[\d.,]+$/);
    assert.match(await page.locator('#fig-store').textContent(), /ms$|^–$/);
    const monitor = page.seen.sockets.filter((url) => url.includes('/ws/monitor'));
    assert.equal(monitor.length, 1);
    assert.ok(!monitor[0].includes('token'), monitor[0]);
  });

  test('a job created while the table is open appears, announced by the monitor', async () => {
    const page = await open();
    await waitForJobsLoad(page);
    await monitorLive(page);
    await hub.createJob('appears-live', { type: 'thumbnail' });
    await page.waitForSelector('#jobs-body tr[data-job="appears-live"]', { timeout: 5000 });
    await hub.publish('appears-live', { progress: 30, stage: 'resize' });
    await page.waitForFunction(
      () => document.querySelector('tr[data-job="appears-live"] [role=progressbar]')?.getAttribute('aria-valuenow') === '30',
    );
  });

  test("the job page lists the job's watchers and sends them a message", async () => {
    await hub.createJob('watched', { owner: 'carol', type: 'captions' });
    await hub.publish('watched', { progress: 10 });
    const carol = await watcher(mintToken({ sub: 'carol', role: 'subscriber' }), 'watched');

    const page = await open('#/jobs/watched');
    await page.waitForFunction(() => document.getElementById('job-view').dataset.loaded === 'true');
    await page.waitForSelector('#job-watchers tbody tr[data-connection]');
    const users = await page.$$eval('#job-watchers tbody tr[data-connection] td:nth-of-type(1)', (cells) =>
      cells.map((c) => c.textContent),
    );
    assert.ok(users.includes('carol'), `watchers: ${users}`);

    await page.getByLabel("Message to this job's watchers (text or JSON)").fill('{"note": "maintenance at 10:00"}');
    await page.getByRole('button', { name: 'Send to watchers' }).click();
    await page.waitForFunction(() => document.getElementById('broadcast-form').dataset.delivered);
    assert.equal(
      await page.locator('#broadcast-form').getAttribute('data-delivered'),
      '2',
      'carol, and this page, which watches the job too',
    );
    // The page watches the job too, so it shows what its watchers got.
    await page.waitForFunction(() => document.getElementById('job-messages').textContent.includes('maintenance at 10:00'));
    assert.equal(await page.locator('#job-messages-box').isVisible(), true);
    await carol.waitForFunction(() => window.__msgs.some((m) => m.type === 'broadcast'));
    const broadcast = await carol.evaluate(() => window.__msgs.find((m) => m.type === 'broadcast'));
    assert.deepEqual(broadcast.data, { note: 'maintenance at 10:00' });
    assert.equal(broadcast.job_id, 'watched');
  });

  test('disconnects a connection from the connections view, after a confirmation with a reason', async () => {
    await hub.createJob('dave-job', { owner: 'dave' });
    const dave = await watcher(mintToken({ sub: 'dave', role: 'subscriber' }), 'dave-job');
    const page = await open('#/connections');
    await page.waitForFunction(() => document.getElementById('connections-view').dataset.loaded);
    await page.getByLabel('User').fill('dave');
    const loaded = await page.locator('#connections-view').getAttribute('data-loaded');
    await page.click('#connections-filter button[type=submit]');
    await page.waitForFunction((t) => document.getElementById('connections-view').dataset.loaded !== t, loaded);
    const rows = page.locator('#connections-table tbody tr[data-connection]');
    assert.equal(await rows.count(), 1);

    await rows.first().getByRole('button', { name: /Disconnect/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (sent to the client)').fill('maintenance');
    await dialog.getByRole('button', { name: 'Disconnect' }).click();

    await dave.waitForFunction(() => window.__closed !== null);
    const closed = await dave.evaluate(() => window.__closed);
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /maintenance/);
    await page.waitForFunction(() => document.querySelectorAll('#connections-table tbody tr[data-connection]').length === 0);
    assert.match(await page.locator('#connections-count').textContent(), /^0 of 0 connections$/);
    let left;
    for (let i = 0; i < 50; i++) {
      left = (await hub.api('GET', '/api/connections?user=dave')).total;
      if (left === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, 0, 'the server lists the connection no more');
  });
});

describe('the dashboard with 10,000 jobs', () => {
  let big;
  before(async () => {
    big = await Server.start();
    let next = 0;
    // 10,000 creates over 16 connections: the server's group commits keep this to seconds.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 10000) {
          const i = next++;
          await big.createJob(`many-${String(i).padStart(5, '0')}`, { type: i % 2 ? 'odd' : 'even' });
        }
      }),
    );
  });
  after(() => big?.stop());

  test('shows one page of 50 with the total, watches only those 50, and searches on the server', async () => {
    const page = await newPage(browser);
    pages.push(page);
    const started = Date.now();
    await page.goto(`${big.url}/#token=${ADMIN}`);
    await waitForJobsLoad(page);
    const shownInMs = Date.now() - started;
    assert.equal(await page.locator('#jobs-count').textContent(), '1–50 of 10,000 jobs');
    assert.equal(await page.locator('#jobs-body tr[data-job]').count(), 50);
    assert.ok(shownInMs < 5000, `the first page took ${shownInMs} ms`);

    // The page's one /ws connection holds a subscription per visible job, no more.
    const watching = async () => {
      const { connections } = await big.api('GET', '/api/connections?user=ops');
      return connections.filter((c) => c.transport === 'websocket').map((c) => c.subscriptions);
    };
    await page.waitForFunction(() => document.getElementById('live-state').dataset.state === 'on');
    for (let i = 0; i < 50 && (await watching())[0] !== 50; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await watching(), [50]);

    const loaded = Number(await page.locator('#jobs-view').getAttribute('data-loaded'));
    await page.fill('#f-q', 'many-0999');
    await page.click('#filters button[type=submit]');
    await waitForJobsLoad(page, loaded);
    assert.equal(await page.locator('#jobs-count').textContent(), '1–10 of 10 jobs');
    assert.equal((await page.$$eval('#jobs-body tr[data-job]', (rows) => rows.map((r) => r.dataset.job)))[0], 'many-09999');
    for (let i = 0; i < 50 && (await watching())[0] !== 10; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await watching(), [10], 'the subscriptions follow the visible page');
  });
});
