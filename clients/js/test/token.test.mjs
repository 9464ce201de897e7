// Token lifetime on a real server: a connection whose token runs out is closed with 4401 and
// the client stops; with getToken, the client sends a fresh token on the open socket in time and
// the connection lives on. (The server accepts a token until exp + 30 s, so tokens whose exp lies
// 27 s in the past are refused about 3 s after they connect.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProgressClient } from '../index.js';
import { Server, WebSocket, mintToken, record, sleep, until } from './helpers.mjs';

let server;
const clients = [];
const nowSeconds = () => Math.floor(Date.now() / 1000);

before(async () => {
  server = await Server.start();
  await server.createJob('t-1');
});

after(async () => {
  for (const client of clients) client.close();
  await server?.stop();
});

function newClient(options) {
  const client = new ProgressClient(server.url, { WebSocket, backoff: { initialMs: 100, maxMs: 500 }, ...options });
  clients.push(client);
  return client;
}

describe('tokens', { concurrency: true }, () => {
  test('a token that runs out closes the connection with 4401 and the client does not reconnect', async () => {
    const client = newClient({ token: mintToken({ sub: 'admin', role: 'admin', exp: nowSeconds() - 27 }) });
    const log = record(client);
    const states = [];
    const waiting = assert.rejects(client.waitFor('t-1'), (e) => e.closeCode === 4401 && e.code === 'unauthorized');
    client.watch('t-1', (s) => states.push(s));
    await until(() => states.length === 1, 10000, 'the first state');
    await waiting;
    assert.equal(log.connected, 1);
    assert.equal(log.disconnected.length, 1);
    assert.equal(log.disconnected[0].code, 4401);
    assert.equal(log.disconnected[0].willReconnect, false);
    assert.ok(log.errors.some((e) => e.code === 'unauthorized' && /token/.test(e.message)));
  });

  test('getToken refreshes the token on the open socket before it runs out', async () => {
    let calls = 0;
    const getToken = async () => {
      calls++;
      // The first token has about 3 s left; later ones live 3 s (+ the server's 30 s skew).
      return calls === 1
        ? mintToken({ sub: 'admin', role: 'admin', exp: nowSeconds() - 27 })
        : mintToken({ sub: 'admin', role: 'admin', ttlSeconds: 3 });
    };
    const client = newClient({ getToken });
    const log = record(client);
    const states = [];
    client.watch('t-1', (s) => states.push(s));
    await until(() => states.length === 1, 10000, 'the first state');
    await sleep(5000); // well past the moment the first token would have closed the socket
    await server.publish('t-1', { progress: 20, stage: 'after-refresh' });
    await until(() => states.length === 2, 10000, 'a state after the refresh');
    assert.equal(states[1].stage, 'after-refresh');
    assert.equal(log.connected, 1, 'one connection');
    assert.deepEqual(log.disconnected, []);
    assert.deepEqual(log.errors, []);
    assert.ok(calls >= 3, `getToken called ${calls} times`);
  });
});
