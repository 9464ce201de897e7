// The Node examples of README.md and docs/clients.md, run as written against a real server (the
// browser ones run in browser.test.mjs). Each reads PROGRESS_HUB_URL and PROGRESS_HUB_TOKEN; a
// named block that went missing fails here, so an example cannot drop out of the docs unnoticed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Server, docExamples, mintToken } from './helpers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const README = join(root, 'README.md');
const CLIENTS = resolve(root, '../../docs/clients.md');
// Under clients/js, so that the examples' imports resolve as in an installed package: `ws` from
// node_modules, '@progress-hub/client' to this package itself.
const scratch = join(root, 'target/doc-examples');

function example(file, name) {
  const block = docExamples(readFileSync(file, 'utf8')).get(name);
  assert.ok(block, `${file} has no block marked <!-- example: ${name} -->`);
  return block;
}

/** Runs a Node example; resolves with its output once it exits 0 within `ms`. */
function run(file, name, ms = 30000) {
  const { code } = example(file, name);
  mkdirSync(scratch, { recursive: true });
  const path = join(scratch, `${name}.mjs`);
  writeFileSync(path, code + '\n');
  const proc = spawn(process.execPath, [path], {
    env: { ...process.env, PROGRESS_HUB_URL: server.url, PROGRESS_HUB_TOKEN: mintToken({ sub: 'viewer', role: 'admin' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (err += c));
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      fail(new Error(`${name} did not end within ${ms} ms:\n${out}\n${err}`));
    }, ms);
    proc.on('exit', (status) => {
      clearTimeout(timer);
      if (status === 0) ok(out);
      else fail(new Error(`${name} exited with ${status}:\n${out}\n${err}`));
    });
  });
}

let server;

before(async () => {
  server = await Server.start();
});

after(async () => {
  await server?.stop();
});

describe('the documented examples', () => {
  test('every block marked as an example is run by a test', () => {
    const names = (file) => [...docExamples(readFileSync(file, 'utf8')).entries()]
      .filter(([, { lang }]) => ['js', 'html', 'jsx'].includes(lang))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(names(README), ['js-browser', 'js-node', 'js-react']);
    assert.deepEqual(names(CLIENTS), ['clients-js']);
  });

  test('the Node example of README.md follows job-42 to its result', async () => {
    await server.createJob('job-42');
    const running = run(README, 'js-node');
    await server.publish('job-42', { status: 'in_progress', stage: 'download', progress: 10 });
    await server.publish('job-42', { progress: 70, stage: 'encode' });
    await server.publish('job-42', { status: 'completed', result: { url: 's3://out.mp4' } });
    const out = await running;
    assert.match(out, /^result \{ url: 's3:\/\/out\.mp4' \}$/m);
    assert.match(out, /^4 completed 100/m);
  });

  test('the JavaScript example of docs/clients.md ends with the terminal state', async () => {
    const out = await run(CLIENTS, 'clients-js');
    assert.match(out.trim().split('\n').at(-1), /^4 completed 100$/);
  });
});
