// The dashboard in Chromium against a real server: signing in (link and form, a refused token, a
// subscriber), the live jobs table (a bar from 0 to 100, filters, search, server-side paging), the
// job page (timeline, stages, cancel) and the page's security (CSP header, no violations, no token
// in any URL). Screenshots of the jobs table and a job page go to target/screenshots/.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  ADMIN,
  Server,
  launchChromium,
  lowContrastText,
  mintToken,
  newPage,
  screenshot,
  tableIds,
  waitForJobsLoad,
} from './helpers.mjs';

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

/** A fresh page (own session storage) that the suite closes at the end. */
async function open(path = '/', token = ADMIN) {
  const page = await newPage(browser);
  pages.push(page);
  await page.goto(hub.url + path + (token ? (path.includes('#') ? '' : '#token=') + token : ''));
  return page;
}

/** Signed in as `token`, on the jobs table, once it has loaded. */
async function openJobs(token = ADMIN) {
  const page = await open('/', token);
  await waitForJobsLoad(page);
  return page;
}

/** Applies the filters form with `values` (by field id) and waits for the new page of jobs. */
async function filter(page, values) {
  for (const [id, value] of Object.entries(values)) {
    if ((await page.locator(`#${id}`).evaluate((el) => el.tagName)) === 'SELECT') await page.selectOption(`#${id}`, value);
    else await page.fill(`#${id}`, value);
  }
  const before = Number(await page.locator('#jobs-view').getAttribute('data-loaded'));
  await page.click('#filters button[type=submit]');
  await waitForJobsLoad(page, before);
}

const status = (page, id) => page.locator(`#jobs-body tr[data-job="${id}"]`).getAttribute('data-status');
const barValue = (page, id) =>
  page.locator(`#jobs-body tr[data-job="${id}"] [role=progressbar]`).getAttribute('aria-valuenow');

/** No CSP violation, no page error, no console report of a refused resource. */
async function assertClean(page) {
  assert.deepEqual(await page.violations(), [], 'CSP violations');
  assert.deepEqual(page.seen.errors, [], 'page errors');
  assert.deepEqual(
    page.seen.console.filter((line) => /Content Security Policy|Refused to/i.test(line)),
    [],
    'console reports of refused content',
  );
}

describe('the dashboard', () => {
  test('signs in from a #token link, takes the token out of the address and keeps it for the tab only', async () => {
    await hub.createJob('link-1', { type: 'video' });
    const page = await openJobs();

    assert.ok(!page.url().includes('token'), `address after sign-in: ${page.url()}`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('progress-hub.token')), ADMIN);
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    assert.ok((await tableIds(page)).includes('link-1'));
    assert.equal(await page.locator('#who-name').textContent(), 'ops (admin)');

    await page.reload();
    await waitForJobsLoad(page);
    assert.ok((await tableIds(page)).includes('link-1'), 'still signed in after a reload');

    const leaks = [...page.seen.requests, ...page.seen.sockets].filter((url) => url.includes(ADMIN));
    assert.deepEqual(leaks, [], 'the token is in no request or WebSocket URL');
    assert.ok(page.seen.sockets.some((url) => url.endsWith('/ws')), `sockets: ${page.seen.sockets}`);
    await assertClean(page);
  });

  test('signs in with the form', async () => {
    await hub.createJob('form-1');
    const page = await open('/', null);
    await page.locator('#sign-in').waitFor();
    assert.equal(await page.locator('#jobs-view').isHidden(), true);
    await page.getByLabel('Token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForJobsLoad(page);
    assert.ok((await tableIds(page)).includes('form-1'));
    assert.equal(await page.locator('#sign-in').isHidden(), true);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#sign-in').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'signing out forgets the token');
    assert.equal(await page.locator('#jobs-view').isHidden(), true);
    await assertClean(page);
  });

  test('a wrong token is refused with a message, and nothing else loads', async () => {
    const forged = mintToken({ sub: 'mallory', role: 'admin', secret: 'another-secret-another-secret-0123' });
    const page = await open('/', forged);
    await page.waitForFunction(() => document.getElementById('sign-in-error').textContent !== '');

    assert.match(await page.locator('#sign-in-error').textContent(), /token was refused/);
    assert.equal(await page.locator('#sign-in').isVisible(), true);
    for (const id of ['jobs-view', 'job-view', 'figures', 'nav', 'who']) {
      assert.equal(await page.locator(`#${id}`).isHidden(), true, `#${id} hidden`);
    }
    assert.deepEqual(page.seen.sockets, [], 'no WebSocket opened');
    const apiCalls = page.seen.requests.filter((url) => url.includes('/api/'));
    assert.deepEqual(apiCalls, [`${hub.url}/api/jobs?offset=0&limit=1`], 'one probe, nothing more');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.ok(!page.url().includes('token'));
  });

  test('a bar goes from 0 to 100 and the row shows completion, live, while events are published over REST', async () => {
    await hub.createJob('live-bar', { type: 'render' });
    const page = await openJobs();
    assert.equal(await barValue(page, 'live-bar'), '0');
    assert.equal(await status(page, 'live-bar'), 'pending');

    for (const progress of [10, 35, 70, 99]) {
      await hub.publish('live-bar', { progress, stage: progress < 50 ? 'decode' : 'encode' });
      await page.waitForFunction(
        ([p]) => document.querySelector('tr[data-job="live-bar"] [role=progressbar]').getAttribute('aria-valuenow') === String(p),
        [progress],
      );
    }
    assert.equal(await status(page, 'live-bar'), 'in_progress');
    assert.equal(await page.locator('tr[data-job="live-bar"] td.stage').textContent(), 'encode');

    await hub.publish('live-bar', { status: 'completed', result: { frames: 1200 } });
    await page.waitForFunction(() => document.querySelector('tr[data-job="live-bar"]').dataset.status === 'completed');
    assert.equal(await barValue(page, 'live-bar'), '100');
    await page.waitForFunction(() => document.getElementById('announce').textContent === 'Job live-bar is completed');
    assert.equal(await page.locator('#announce').getAttribute('aria-live'), 'polite');
    await assertClean(page);
  });

  test('filters by status, owner and type', async () => {
    await hub.createJob('flt-done', { type: 'pdf', owner: 'erin' });
    await hub.publish('flt-done', { progress: 50 });
    await hub.publish('flt-done', { status: 'completed' });
    await hub.createJob('flt-failed', { type: 'pdf', owner: 'erin' });
    await hub.publish('flt-failed', { status: 'failed', error: 'corrupt file' });
    await hub.createJob('flt-running', { type: 'ocr', owner: 'erin' });
    await hub.publish('flt-running', { progress: 40 });
    const page = await openJobs();

    await filter(page, { 'f-status': 'failed' });
    const failed = await tableIds(page);
    assert.ok(failed.includes('flt-failed'), `failed: ${failed}`);
    const statuses = await page.$$eval('#jobs-body tr[data-job]', (rows) => rows.map((r) => r.dataset.status));
    assert.ok(statuses.every((s) => s === 'failed'), `statuses: ${statuses}`);

    await filter(page, { 'f-status': '', 'f-owner': 'erin', 'f-type': 'pdf' });
    assert.deepEqual(await tableIds(page), ['flt-failed', 'flt-done']);
    assert.equal(await page.locator('#jobs-count').textContent(), '1–2 of 2 jobs');

    await filter(page, { 'f-owner': 'nobody-at-all', 'f-type': '' });
    assert.deepEqual(await tableIds(page), []);
    assert.equal(await page.locator('#jobs-body td.empty').textContent(), 'No jobs match.');
    await assertClean(page);
  });

  test('searches job ids with q (the server does the matching)', async () => {
    await hub.createJob('invoice-NEEDLE-7');
    await hub.createJob('report-needle-8');
    await hub.createJob('haystack-9');
    const page = await openJobs();

    await filter(page, { 'f-q': 'needle' });
    assert.deepEqual(await tableIds(page), ['report-needle-8', 'invoice-NEEDLE-7']);
    assert.equal(await page.locator('#jobs-count').textContent(), '1–2 of 2 jobs');
    assert.ok(page.seen.requests.some((url) => url.includes('/api/jobs?q=needle')), 'asked the server');
  });

  test('pages on the server: 60 jobs, 25 a page, with the total', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
    for (const id of ids) await hub.createJob(id, { type: 'bulk' });
    const page = await openJobs();

    await filter(page, { 'f-type': 'bulk', 'f-limit': '25' });
    assert.equal(await page.locator('#jobs-count').textContent(), '1–25 of 60 jobs');
    const first = await tableIds(page);
    assert.equal(first.length, 25);
    assert.equal(first[0], 'bulk-59', 'newest first');
    assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true);

    let loaded = Number(await page.locator('#jobs-view').getAttribute('data-loaded'));
    await page.getByRole('button', { name: 'Next page' }).click();
    await waitForJobsLoad(page, loaded);
    assert.equal(await page.locator('#jobs-count').textContent(), '26–50 of 60 jobs');
    assert.equal((await tableIds(page))[0], 'bulk-34');

    loaded = Number(await page.locator('#jobs-view').getAttribute('data-loaded'));
    await page.getByRole('button', { name: 'Next page' }).click();
    await waitForJobsLoad(page, loaded);
    assert.equal(await page.locator('#jobs-count').textContent(), '51–60 of 60 jobs');
    assert.equal((await tableIds(page)).length, 10);
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    assert.ok(
      page.seen.requests.some((url) => url.includes('offset=50') && url.includes('limit=25')),
      'the server was asked for the page',
    );
    assert.equal(
      await page.evaluate(() => document.querySelectorAll('#jobs-body [role=progressbar][aria-valuenow]').length),
      10,
      'every row has a progress bar with its value',
    );
  });

  test('cancels a job from its page after a confirmation, and the page shows it cancelled', async () => {
    await hub.createJob('to-cancel', { type: 'transcode' });
    await hub.publish('to-cancel', { progress: 20, stage: 'split' });
    const page = await open('/#/jobs/to-cancel', null);
    await page.evaluate((t) => sessionStorage.setItem('progress-hub.token', t), ADMIN);
    await page.reload();
    await page.waitForFunction(() => document.getElementById('job-view').dataset.loaded === 'true');
    assert.equal(await page.locator('#job-status').textContent(), 'in progress');

    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Cancel job to-cancel\?/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-no', 'the safe choice has the focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await hub.api('GET', '/api/jobs/to-cancel')).status, 'in_progress', 'Escape keeps the job');

    await page.getByRole('button', { name: 'Cancel job' }).click();
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await page.waitForFunction(() => document.getElementById('job-status')?.textContent === 'cancelled');
    assert.equal((await hub.api('GET', '/api/jobs/to-cancel')).status, 'cancelled');
    await assert.rejects(hub.publish('to-cancel', { progress: 30 }), (e) => e.status === 409 && e.body.code === 'job_cancelled');
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).isHidden(), true);
    await page.waitForFunction(() => document.getElementById('announce').textContent.includes('cancelled'));
    await assertClean(page);
  });

  test('the job page shows the timeline, the time per stage, metadata and the result, and follows the job live', async () => {
    await hub.createJob('story', { type: 'captions', metadata: { lang: 'en', source: 's3://in/movie.mp4' } });
    await hub.publish('story', { progress: 5, stage: 'download' });
    await hub.publish('story', { progress: 40, stage: 'transcribe', message: 'chunk 4/10' });
    const page = await open('/', ADMIN);
    await waitForJobsLoad(page);
    await page.getByRole('link', { name: 'story', exact: true }).click();
    await page.waitForFunction(() => document.getElementById('job-view').dataset.loaded === 'true');
    assert.equal(await page.locator('#jobs-view').isHidden(), true);
    assert.equal(await page.locator('#job-timeline li').count(), 3);
    assert.match(await page.locator('#job-metadata').textContent(), /"lang": "en"/);

    await hub.publish('story', { progress: 80, stage: 'align' });
    await hub.publish('story', { status: 'completed', result: { captions: 's3://out/movie.vtt' } });
    await page.waitForFunction(() => document.getElementById('job-status')?.textContent === 'completed');
    assert.equal(await page.locator('#job-timeline li').count(), 5);
    assert.match(await page.locator('#job-result').textContent(), /movie\.vtt/);
    const stages = await page.$$eval('#job-stages tbody th', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(stages, ['(waiting: pending)', 'download', 'transcribe', 'align']);
    assert.equal(
      await page.locator('#job-summary [role=progressbar]').getAttribute('aria-valuenow'),
      '100',
    );
    await page.goBack();
    await waitForJobsLoad(page);
    await assertClean(page);
  });

  test('a subscriber sees only its own jobs and no admin features', async () => {
    await hub.createJob('alice-1', { owner: 'alice', type: 'export' });
    await hub.createJob('bob-1', { owner: 'bob', type: 'export' });
    const alice = mintToken({ sub: 'alice', role: 'subscriber' });
    const page = await openJobs(alice);

    assert.deepEqual(await tableIds(page), ['alice-1']);
    assert.equal(await page.locator('#who-name').textContent(), 'alice (subscriber)');
    for (const id of ['figures', 'nav-connections', 'job-admin']) {
      assert.equal(await page.locator(`#${id}`).isHidden(), true, `#${id} hidden`);
    }
    assert.ok(!page.seen.sockets.some((url) => url.includes('/ws/monitor')), 'no monitor');
    assert.ok(!page.seen.requests.some((url) => /\/api\/(stats|connections)/.test(url)), 'no admin endpoint');

    await page.evaluate(() => (location.hash = '#/jobs/bob-1'));
    await page.waitForFunction(() => document.getElementById('alert').textContent !== '');
    assert.equal(await page.locator('#alert').textContent(), 'No job bob-1.');

    await page.evaluate(() => (location.hash = '#/connections'));
    await waitForJobsLoad(page);
    assert.equal(await page.locator('#connections-view').isHidden(), true);
    await hub.publish('alice-1', { progress: 50 });
    await page.waitForFunction(() => document.querySelector('tr[data-job="alice-1"] [role=progressbar]').getAttribute('aria-valuenow') === '50');
    await assertClean(page);
  });

  test('every file carries the CSP header, and a tour of the views raises no violation', async () => {
    for (const path of ['/', '/dashboard/app.js', '/dashboard/style.css', '/dashboard/client/index.js']) {
      const res = await fetch(hub.url + path);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy');
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:\d+;/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    }
    await hub.createJob('tour-1');
    const page = await openJobs();
    await page.evaluate(() => (location.hash = '#/jobs/tour-1'));
    await page.waitForFunction(() => document.getElementById('job-view').dataset.loaded === 'true');
    await page.evaluate(() => (location.hash = '#/connections'));
    await page.evaluate(() => (location.hash = '#/'));
    await waitForJobsLoad(page);
    // An inline script, as injected markup would add it, is refused and reported.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = true';
      document.body.append(s);
    });
    await page.waitForFunction(() => window.__violations.length > 0);
    assert.equal(await page.evaluate(() => window.__inline), undefined);
    assert.match((await page.violations())[0], /script-src/);
  });

  test('is usable from the keyboard: labelled fields, tab order, visible focus', async () => {
    const page = await openJobs();
    const unlabelled = await page.$$eval('input, select, textarea', (fields) =>
      fields.filter((f) => !f.labels?.length && !f.getAttribute('aria-label')).map((f) => f.id),
    );
    assert.deepEqual(unlabelled, []);
    await page.focus('#f-q');
    await page.keyboard.type('bulk-0');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'f-status');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, 'solid', 'focus is visible');
    const buttons = await page.$$eval('[onclick], a:not([href]), div[tabindex], span[tabindex]', (els) => els.length);
    assert.equal(buttons, 0, 'actions are buttons or links, not clickable divs');
  });

  test('text keeps WCAG AA contrast on the jobs table, a job page and the sign-in form', async () => {
    const page = await openJobs();
    assert.deepEqual(await lowContrastText(page), [], 'jobs table');
    await page.evaluate(() => (location.hash = '#/jobs/story'));
    await page.waitForFunction(() => document.getElementById('job-view').dataset.loaded === 'true');
    assert.deepEqual(await lowContrastText(page), [], 'job page');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#sign-in').waitFor();
    assert.deepEqual(await lowContrastText(page), [], 'sign-in form');
  });

  test('screenshots: the jobs table and a job page', async () => {
    const kinds = [
      ['video-transcode', 'encode', 64],
      ['captions', 'transcribe', 38],
      ['pdf-split', 'split', 91],
      ['image-gen', 'denoise', 12],
    ];
    for (let i = 0; i < 8; i++) {
      const [type, stage, progress] = kinds[i % kinds.length];
      const id = `${type}-${1040 + i}`;
      await hub.createJob(id, { type, owner: ['alice', 'bob', 'carol'][i % 3], metadata: { batch: 7 } });
      if (i === 5) await hub.publish(id, { status: 'failed', error: 'GPU out of memory' });
      else if (i === 6) {
        await hub.publish(id, { progress: 50, stage });
        await hub.publish(id, { status: 'completed', result: { url: 's3://out/' + id } });
      }
      else if (i !== 7) await hub.publish(id, { progress, stage, eta_seconds: 30 + i * 17 });
    }
    await hub.createJob('render-7', { type: 'video', owner: 'alice', metadata: { frames: 2400, codec: 'av1' } });
    for (const [progress, stage] of [[3, 'fetch'], [20, 'decode'], [55, 'encode'], [82, 'encode'], [95, 'package']]) {
      await hub.publish('render-7', { progress, stage, message: `${stage} ${progress}%` });
    }
    await hub.publish('render-7', { status: 'completed', result: { url: 's3://renders/7.mp4' } });
    const page = await openJobs();
    await page.waitForFunction(() => document.getElementById('live-state').dataset.state === 'on');
    // The figures follow within one monitor interval (2 s): this page's own subscriptions show.
    await page.waitForFunction(() => Number(document.getElementById('fig-subscriptions').textContent) > 0, null, {
      timeout: 10000,
    });
    const jobsShot = await screenshot(page, 'jobs.png');
    await page.evaluate(() => (location.hash = '#/jobs/render-7'));
    await page.waitForFunction(() => document.getElementById('job-view').dataset.loaded === 'true');
    const jobShot = await screenshot(page, 'job.png', { fullPage: true });
    console.log(`screenshots: ${jobsShot} ${jobShot}`);
    await assertClean(page);
  });
});

describe('the dashboard of a server without authentication', () => {
  let open;
  before(async () => {
    open = await Server.start(['--insecure-no-auth']);
  });
  after(() => open?.stop());

  test('needs no sign-in, says so, and shows the jobs live', async () => {
    await open.createJob('dev-1');
    const page = await newPage(browser);
    pages.push(page);
    await page.goto(open.url + '/');
    await waitForJobsLoad(page);
    assert.equal(await page.locator('#who-name').textContent(), 'developer (admin)');
    assert.equal(await page.locator('#sign-in').isHidden(), true);
    assert.deepEqual(await tableIds(page), ['dev-1']);
    await open.publish('dev-1', { progress: 45 });
    await page.waitForFunction(() => document.querySelector('tr[data-job="dev-1"] [role=progressbar]').getAttribute('aria-valuenow') === '45');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'no token to keep');
  });
});
