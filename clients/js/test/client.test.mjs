// ProgressClient against a real server: watching, waitFor, cancel, many jobs on one connection,
// forced disconnects and a dead link found by missing heartbeats.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProgressClient } from '../index.js';
import { ADMIN, Proxy, Server, WebSocket, assertIncreasing, record, sleep, until } from './helpers.mjs';

let server;
let proxy;
const clients = [];

function newClient(url = server.url, options = {}) {
  const client = new ProgressClient(url, {
    token: ADMIN,
    WebSocket,
    backoff: { initialMs: 100, maxMs: 1000 },
    ...options,
  });
  clients.push(client);
  return client;
}

before(async () => {
  server = await Server.start({ args: ['--heartbeat-interval', '1s'] });
  proxy = await new Proxy(server.port).listen();
});

after(async () => {
  for (const client of clients) client.close();
  await proxy?.close();
  await server?.stop();
});

describe('ProgressClient', { concurrency: true }, () => {
  test('watch delivers every state once, in seq order, up to the terminal one', async () => {
    await server.createJob('w-1');
    const client = newClient();
    const states = [];
    const done = new Promise((resolve) =>
      client.watch('w-1', (state) => {
        states.push(state);
        if (state.status === 'completed') resolve();
      }),
    );
    await until(() => states.length >= 1, 10000, 'the first state');
    for (let i = 1; i <= 5; i++) await server.publish('w-1', { progress: i * 10, stage: `s${i}` });
    await server.publish('w-1', { status: 'completed', result: { ok: true } });
    await done;
    assertIncreasing(assert, states);
    assert.deepEqual(
      states.map((s) => s.seq),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(states.at(-1).result, { ok: true });
    assert.equal(states.at(-1).progress, 100);
    assert.equal(states[0].replay, undefined, 'replay is passed in info, not in the state');
  });

  test('waitFor resolves with the completed state and rejects on failed and on cancel', async () => {
    await server.createJob('wf-ok');
    await server.createJob('wf-fail');
    await server.createJob('wf-cancel');
    const client = newClient();
    const ok = client.waitFor('wf-ok');
    const failed = assert.rejects(
      client.waitFor('wf-fail'),
      (e) => e.code === 'failed' && /disk full/.test(e.message) && e.state.status === 'failed',
    );
    const cancelled = assert.rejects(client.waitFor('wf-cancel'), (e) => e.code === 'cancelled');
    await server.publish('wf-ok', { progress: 50 });
    await server.publish('wf-ok', { status: 'completed', result: 42 });
    await server.publish('wf-fail', { status: 'failed', error: 'disk full' });
    const reply = await client.cancel('wf-cancel');
    assert.equal(reply.job_id, 'wf-cancel');
    assert.equal(reply.status, 'cancelled');
    const state = await ok;
    assert.equal(state.status, 'completed');
    assert.equal(state.result, 42);
    await failed;
    await cancelled;
    // A job already finished resolves at once; rejectOn: [] resolves on any terminal state.
    assert.equal((await client.waitFor('wf-cancel', { rejectOn: [] })).status, 'cancelled');
    // cancel of a finished job is refused by the server.
    await assert.rejects(client.cancel('wf-ok'), (e) => e.code === 'job_finished');
  });

  test('cancel before the connection is up waits for it; a refused cancel rejects with its code', async () => {
    await server.createJob('early-cancel');
    const client = newClient();
    const reply = await client.cancel('early-cancel'); // the client has not even connected yet
    assert.deepEqual({ ...reply, seq: undefined }, { job_id: 'early-cancel', status: 'cancelled', seq: undefined });
    await assert.rejects(client.cancel('early-cancel'), (e) => e.code === 'job_cancelled' && e.jobId === 'early-cancel');
    await assert.rejects(client.cancel('no-such-job-c'), (e) => e.code === 'job_not_found');
  });

  test('an unknown job is reported to its watcher and rejects waitFor', async () => {
    const client = newClient();
    const log = record(client);
    await assert.rejects(client.waitFor('no-such-job'), (e) => e.code === 'job_not_found' && e.jobId === 'no-such-job');
    assert.ok(log.errors.some((e) => e.code === 'job_not_found'));
  });

  test('unsubscribe stops updates for that watcher only', async () => {
    await server.createJob('u-1');
    const client = newClient();
    const a = [];
    const b = [];
    const subA = client.watch('u-1', (s) => a.push(s.seq));
    client.watch('u-1', (s) => b.push(s.seq));
    await until(() => a.length === 1 && b.length === 1, 10000, 'first states');
    subA.unsubscribe();
    await server.publish('u-1', { progress: 10 });
    await until(() => b.length === 2, 10000, 'second state');
    await sleep(200);
    assert.deepEqual(a, [1]);
    assert.deepEqual(b, [1, 2]);
  });

  test('a job deleted while watched ends its watch with job_not_found; the others go on', async () => {
    await server.createJob('del-1');
    await server.createJob('del-2');
    const client = newClient();
    const errors = [];
    const kept = [];
    client.watch('del-1', () => {}, { onError: (e) => errors.push(e) });
    client.watch('del-2', (s) => kept.push(s.seq));
    const waiting = client.waitFor('del-1').catch((e) => e);
    await until(() => kept.length === 1 && client.connected, 10000, 'both subscribed');
    await sleep(100);
    const res = await fetch(`${server.url}/api/jobs/del-1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(res.status, 204);
    await until(() => errors.length === 1, 10000, 'the deletion reported to the watcher');
    assert.equal(errors[0].code, 'job_not_found');
    assert.equal(errors[0].jobId, 'del-1');
    const rejected = await waiting;
    assert.equal(rejected.code, 'job_not_found');
    await server.publish('del-2', { progress: 50 });
    await until(() => kept.length === 2, 10000, 'the other job goes on');
  });

  test("an administrator's broadcast to a watched job arrives as a broadcast event", async () => {
    await server.createJob('bc-1');
    const client = newClient();
    const received = [];
    client.on('broadcast', (message) => received.push(message));
    const states = [];
    client.watch('bc-1', (s) => states.push(s));
    await until(() => states.length === 1, 10000, 'the first state');
    const res = await fetch(`${server.url}/api/jobs/bc-1/broadcast`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { notice: 'maintenance at 10:00' } }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { delivered: 1 });
    await until(() => received.length === 1, 10000, 'the broadcast');
    assert.equal(received[0].job_id, 'bc-1');
    assert.equal(received[0].seq, 1);
    assert.equal(received[0].status, 'pending');
    assert.deepEqual(received[0].data, { notice: 'maintenance at 10:00' });
    assert.equal(states.length, 1, 'a broadcast is not a state');
  });

  test('100 jobs share one connection and each reaches its final state', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `many-${i}`);
    for (const id of ids) await server.createJob(id);
    const countingProxy = await new Proxy(server.port).listen();
    try {
      const client = newClient(countingProxy.url);
      const finals = new Map();
      const seen = new Map(ids.map((id) => [id, []]));
      for (const id of ids) client.watch(id, (s) => {
        seen.get(id).push(s.seq);
        if (s.status === 'completed') finals.set(id, s);
      });
      await until(() => ids.every((id) => seen.get(id).length > 0), 20000, 'every subscription');
      await server.api('POST', '/api/events/batch', { events: ids.map((job_id) => ({ job_id, progress: 50, stage: 'half' })) });
      await server.api('POST', '/api/events/batch', { events: ids.map((job_id) => ({ job_id, status: 'completed', result: job_id })) });
      await until(() => finals.size === 100, 20000, 'all 100 completed');
      for (const id of ids) {
        assert.deepEqual(seen.get(id), [1, 2, 3], id);
        assert.equal(finals.get(id).result, id);
      }
      assert.equal(countingProxy.connections, 1, 'one WebSocket for all jobs');
    } finally {
      await countingProxy.close();
    }
  });

  test('forced disconnects mid-job: reconnects, resumes with since, misses and repeats nothing', async () => {
    await server.createJob('cut-1');
    const client = newClient(proxy.url);
    const log = record(client);
    const states = [];
    client.watch('cut-1', (s) => states.push(s));
    await until(() => states.length === 1, 10000, 'first state');
    let seq = 1;
    for (let round = 0; round < 3; round++) {
      await server.publish('cut-1', { progress: ++seq, stage: `before-cut-${round}` });
      proxy.cut();
      // While the client is away, the job moves on: it must get these on resume.
      for (let i = 0; i < 3; i++) await server.publish('cut-1', { progress: ++seq, stage: `away-${round}-${i}` });
      await until(() => states.at(-1).seq === seq, 15000, `resume of round ${round}`);
    }
    await server.publish('cut-1', { status: 'completed' });
    await until(() => states.at(-1).status === 'completed', 10000, 'completed');
    assert.deepEqual(
      states.map((s) => s.seq),
      Array.from({ length: seq + 1 }, (_, i) => i + 1),
    );
    assert.ok(log.connected >= 4, `connected ${log.connected} times`);
    assert.ok(log.disconnected.length >= 3);
    assert.ok(log.disconnected.every((d) => d.code === 1006 && d.willReconnect));
  });

  test('a dead link (no heartbeat arrives) is detected and replaced', async () => {
    await server.createJob('dead-1');
    const frozenProxy = await new Proxy(server.port).listen();
    try {
      const client = newClient(frozenProxy.url);
      const log = record(client);
      const states = [];
      client.watch('dead-1', (s) => states.push(s));
      await until(() => states.length === 1, 10000, 'first state');
      frozenProxy.freeze(); // no byte passes any more, but nothing closes either
      await server.publish('dead-1', { progress: 30, stage: 'while-frozen' });
      const t0 = Date.now();
      await until(() => log.disconnected.length === 1, 10000, 'the dead link to be dropped');
      const waited = Date.now() - t0;
      assert.ok(waited < 6000, `detected after ${waited} ms (heartbeat 1 s)`);
      assert.equal(log.disconnected[0].willReconnect, true);
      assert.match(log.disconnected[0].reason, /heartbeat/);
      await until(() => states.length === 2, 10000, 'the state published while frozen');
      assert.equal(states[1].stage, 'while-frozen');
      assert.equal(frozenProxy.connections, 2);
    } finally {
      await frozenProxy.close();
    }
  });
});
