// What the client sends and keeps on a resume, against a scripted server that misbehaves on
// purpose: it replays states the client already has, and it sees every subscribe's since.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { ProgressClient } from '../index.js';
import { WebSocket, record, until } from './helpers.mjs';

const state = (seq, status = 'in_progress') => ({
  type: 'progress', job_id: 'job-r', seq, status, progress: seq * 10, stage: null, message: null,
  eta_seconds: null, elapsed_seconds: null, timestamp: new Date().toISOString(), metadata: {},
});

let wss;
let client;
after(async () => {
  client?.close();
  await new Promise((r) => wss?.close(r));
});

test('resumes with since = the last seq seen and drops states it already has', async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const subscribes = [];
  let connection = 0;
  wss.on('connection', (ws) => {
    const n = ++connection;
    ws.send(JSON.stringify({ type: 'connection_established', connection_id: `c${n}`, heartbeat_interval: 25 }));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'auth') ws.send(JSON.stringify({ type: 'authenticated', sub: 'a', role: 'admin', id: msg.id }));
      if (msg.type !== 'subscribe') return;
      subscribes.push(msg);
      ws.send(JSON.stringify({ type: 'subscribed', job_id: 'job-r', status: 'in_progress', seq: 3, recovered: true, id: msg.id }));
      if (n === 1) {
        for (const seq of [1, 2, 3]) ws.send(JSON.stringify({ ...state(seq), replay: seq < 3 }));
        setTimeout(() => ws.terminate(), 50); // a dropped link
      } else {
        // A server that wrongly sends everything again, then the next states.
        for (const seq of [1, 2, 3, 4]) ws.send(JSON.stringify({ ...state(seq), replay: true }));
        ws.send(JSON.stringify(state(3)));
        ws.send(JSON.stringify(state(5, 'completed')));
      }
    });
  });
  client = new ProgressClient(`http://127.0.0.1:${wss.address().port}`, {
    token: 't', WebSocket, backoff: { initialMs: 20, maxMs: 50 },
  });
  const log = record(client);
  const seen = [];
  client.watch('job-r', (s, info) => seen.push([s.seq, info.replay]));
  const final = await client.waitFor('job-r');
  assert.equal(final.seq, 5);
  await until(() => seen.length === 5, 2000, 'five states');
  assert.deepEqual(seen, [[1, true], [2, true], [3, false], [4, true], [5, false]]);
  assert.equal(subscribes[0].since, undefined, 'no since on the first subscribe');
  assert.equal(subscribes.at(-1).since, 3, 'resumed after the last seq seen');
  assert.equal(log.connected, 2);
  assert.equal(log.disconnected[0].code, 1006);
});
