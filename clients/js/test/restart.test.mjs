// A server killed with SIGKILL mid-job and restarted on the same port and data directory: the
// client reconnects, resumes every job with since, and sees each state exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ProgressClient } from '../index.js';
import { ADMIN, Server, WebSocket, freePort, record, until } from './helpers.mjs';

const dataDir = mkdtempSync(join(tmpdir(), 'hub-js-restart-'));
let server;
let client;

after(async () => {
  client?.close();
  await server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

test('SIGKILL and restart mid-job: nothing missed, nothing twice, the final state seen', async () => {
  server = await Server.start({ port: await freePort(), dataDir, args: ['--heartbeat-interval', '2s'] });
  const jobs = ['r-1', 'r-2', 'r-3'];
  for (const id of jobs) await server.createJob(id);

  client = new ProgressClient(server.url, { token: ADMIN, WebSocket, backoff: { initialMs: 100, maxMs: 800 } });
  const log = record(client);
  const seen = new Map(jobs.map((id) => [id, []]));
  for (const id of jobs) client.watch(id, (s) => seen.get(id).push(s));
  const finals = Promise.all(jobs.map((id) => client.waitFor(id)));
  await until(() => jobs.every((id) => seen.get(id).length === 1), 15000, 'first states');

  const expected = new Map(jobs.map((id) => [id, 1]));
  const step = async (id, event) => {
    const state = await server.publish(id, event);
    expected.set(id, state.seq);
  };
  let n = 0;
  for (let round = 0; round < 2; round++) {
    for (const id of jobs) await step(id, { progress: ++n, stage: `before-kill-${round}` });
    await server.kill('SIGKILL');
    await server.start();
    // Published before the client is back: it must get these by replay.
    for (const id of jobs) await step(id, { progress: ++n, stage: `after-restart-${round}` });
    await until(
      () => jobs.every((id) => seen.get(id).at(-1)?.seq === expected.get(id)),
      20000,
      `resume after restart ${round}`,
    );
  }
  for (const id of jobs) await step(id, { status: 'completed', result: { id } });

  const results = await finals;
  assert.deepEqual(
    results.map((s) => s.status),
    ['completed', 'completed', 'completed'],
  );
  for (const id of jobs) {
    const seqs = seen.get(id).map((s) => s.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: expected.get(id) }, (_, i) => i + 1),
      `${id}: every seq once, in order`,
    );
    assert.equal(seen.get(id).at(-1).status, 'completed');
  }
  assert.ok(log.disconnected.length >= 2, 'disconnected by each kill');
  assert.ok(log.disconnected.every((d) => d.willReconnect));
  assert.ok(log.connected >= 3);
  assert.equal(log.errors.filter((e) => e.code === 'connection_refused').length, 0);
});
