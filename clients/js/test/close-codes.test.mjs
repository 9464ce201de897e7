// The close-code table: which closes reconnect and which stop the client, against a scripted
// WebSocket server for every code, and against a real server for 4401 and a refused origin.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { ProgressClient, retryAfterMs, shouldReconnect } from '../index.js';
import { ADMIN, Proxy, Server, WebSocket, mintToken, record, sleep, until } from './helpers.mjs';

const clients = [];
const closers = [];

after(async () => {
  for (const client of clients) client.close();
  for (const close of closers) await close();
});

function newClient(url, options = {}) {
  const client = new ProgressClient(url, {
    token: ADMIN,
    WebSocket,
    backoff: { initialMs: 20, maxMs: 100 },
    ...options,
  });
  clients.push(client);
  return client;
}

/** A server that speaks just enough protocol v1, then closes each connection with `code`. */
async function scriptedServer(code, reason = 'scripted') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const state = { connections: 0, tokens: [], connectedAt: [] };
  wss.on('connection', (ws) => {
    state.connections++;
    state.connectedAt.push(Date.now());
    ws.send(JSON.stringify({ type: 'connection_established', connection_id: 'c', heartbeat_interval: 25 }));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'auth') {
        state.tokens.push(msg.token);
        const reply =
          code === 4401
            ? { type: 'error', code: 'unauthorized', error: 'bad token', id: msg.id }
            : { type: 'authenticated', sub: 'a', role: 'admin', id: msg.id };
        ws.send(JSON.stringify(reply));
        setTimeout(() => (code === 1006 ? ws.terminate() : ws.close(code, reason)), 30);
      }
    });
  });
  closers.push(() => new Promise((r) => wss.close(r)));
  return { url: `http://127.0.0.1:${wss.address().port}`, state };
}

test('shouldReconnect follows the table of protocol.md', () => {
  for (const code of [1001, 1006, 1011, 4008, 4429]) assert.equal(shouldReconnect(code), true, String(code));
  for (const code of [1000, 1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4404, 4999]) {
    assert.equal(shouldReconnect(code), false, String(code));
  }
});

describe('close codes', { concurrency: true }, () => {
  for (const code of [1000, 1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4404]) {
    test(`close ${code} stops the client: no reconnect, an error event, waitFor rejects`, async () => {
      const { url, state } = await scriptedServer(code);
      const client = newClient(url);
      const log = record(client);
      const waiting = assert.rejects(client.waitFor('job-x'), (e) => e.closeCode === code);
      await until(() => log.errors.length > 0, 5000, 'an error event');
      await waiting;
      await sleep(400); // many back-off periods
      assert.equal(state.connections, 1);
      assert.equal(log.disconnected.length, 1);
      assert.equal(log.disconnected[0].code, code);
      assert.equal(log.disconnected[0].willReconnect, false);
      assert.equal(log.errors.at(-1).closeCode, code);
    });
  }

  for (const code of [1001, 1006, 1011, 4008, 4429]) {
    test(`close ${code} reconnects with back-off`, async () => {
      const { url, state } = await scriptedServer(code);
      const client = newClient(url);
      const log = record(client);
      client.watch('job-x', () => {});
      await until(() => state.connections >= 3, 5000, 'two reconnects');
      assert.ok(log.disconnected.every((d) => d.code === code && d.willReconnect && d.delayMs >= 0));
      if (code === 4429) assert.ok(log.disconnected.every((d) => d.delayMs >= 20), 'a 4429 always waits');
    });
  }

  test('1001 with a retry_after_ms hint waits at least the hint before reconnecting', async () => {
    const { url, state } = await scriptedServer(1001, 'server shutting down; retry_after_ms=700');
    const client = newClient(url); // back-off alone: under 100 ms
    const log = record(client);
    client.watch('job-x', () => {});
    await until(() => state.connections >= 3, 5000, 'two reconnects');
    assert.equal(retryAfterMs('server shutting down; retry_after_ms=700'), 700);
    assert.equal(retryAfterMs('idle timeout: no traffic for 62 s'), undefined);
    // each delay is the hint plus the back-off's jitter
    assert.ok(
      log.disconnected.every((d) => d.code === 1001 && d.delayMs >= 700 && d.delayMs <= 800),
      JSON.stringify(log.disconnected),
    );
    for (let i = 1; i < 3; i++) {
      const gap = state.connectedAt[i] - state.connectedAt[i - 1];
      assert.ok(gap >= 700, `reconnect ${i} came after ${gap} ms`);
    }
  });

  test('4401 with getToken: asks for a new token once, then stops when it is refused again', async () => {
    const { url, state } = await scriptedServer(4401);
    let calls = 0;
    const client = newClient(url, { token: undefined, getToken: async () => `token-${++calls}` });
    const log = record(client);
    client.watch('job-x', () => {});
    await until(() => log.errors.some((e) => e.closeCode === 4401), 5000, 'the final 4401');
    await sleep(300);
    assert.equal(state.connections, 2);
    assert.deepEqual(state.tokens, ['token-1', 'token-2']);
  });
});

describe('against a real server', { concurrency: true }, () => {
  let server;
  before(async () => {
    server = await Server.start({ args: ['--allowed-origin', 'http://good.example'] });
    await server.createJob('real-1');
    await server.publish('real-1', { progress: 10 });
  });
  after(() => server?.stop());

  test('a badly signed token ends in 4401 and no reconnect', async () => {
    const counter = await new Proxy(server.port).listen();
    closers.push(() => counter.close());
    const client = newClient(counter.url, { token: ADMIN.slice(0, -4) + 'AAAA' });
    const log = record(client);
    client.watch('real-1', () => assert.fail('no state with a bad token'));
    await until(() => log.errors.some((e) => e.closeCode === 4401), 10000, '4401');
    assert.ok(log.errors.some((e) => e.code === 'unauthorized'));
    await sleep(500);
    assert.equal(counter.connections, 1);
  });

  test('an expired token from getToken is replaced by the next one after 4401', async () => {
    const tokens = [mintToken({ sub: 'admin', role: 'admin', exp: Math.floor(Date.now() / 1000) - 120 }), ADMIN];
    const client = newClient(server.url, { token: undefined, getToken: () => tokens.shift() ?? ADMIN });
    const log = record(client);
    const states = [];
    client.watch('real-1', (s) => states.push(s));
    await until(() => states.length === 1, 10000, 'the state after a good token');
    assert.equal(states[0].seq, 2);
    assert.equal(log.disconnected[0].code, 4401);
    assert.equal(log.connected, 1);
  });

  test('a refused handshake (origin not allowed) is reported and not retried forever', async () => {
    const counter = await new Proxy(server.port).listen();
    closers.push(() => counter.close());
    class EvilOriginWebSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols, { origin: 'http://evil.example' });
      }
    }
    const client = newClient(counter.url, { WebSocket: EvilOriginWebSocket });
    const log = record(client);
    const waiting = assert.rejects(client.waitFor('real-1'), (e) => e.code === 'connection_refused');
    await until(() => log.errors.some((e) => e.code === 'connection_refused'), 10000, 'connection_refused');
    await waiting;
    const refused = log.errors.find((e) => e.code === 'connection_refused');
    assert.match(refused.message, /refused the connection/);
    assert.match(refused.message, /origin/);
    assert.equal(log.connected, 0);
    await sleep(500);
    assert.equal(counter.connections, 3, 'three first connects, then it stops');

    // The same origin, once allowed, connects.
    class GoodOriginWebSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols, { origin: 'http://good.example' });
      }
    }
    const good = newClient(server.url, { WebSocket: GoodOriginWebSocket });
    assert.equal((await new Promise((r) => good.watch('real-1', r))).seq, 2);
  });
});
