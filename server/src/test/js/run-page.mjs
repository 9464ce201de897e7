// Opens one page in Debian's headless chromium (driven by playwright-core) and prints, one per
// line on stdout, what the page logs: "<console type>: <text>" (log, error, debug, ...),
// "pageerror: <message>" and "[runner] ..." lines about the runner itself.
//
// Usage: node run-page.mjs <page-url> [max-seconds]
// Runs until stdin ends (or reads "quit"), SIGTERM/SIGINT, or max-seconds (default 120) pass;
// then closes the browser and removes its fresh user-data-dir. Exit code 0, or 2 on timeout.
// Environment: CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [pageUrl, maxSecondsArg] = process.argv.slice(2);
if (!pageUrl) {
  process.stderr.write('usage: node run-page.mjs <page-url> [max-seconds]\n');
  process.exit(64);
}
const maxSeconds = Number(maxSecondsArg ?? 120);
const print = (line) => process.stdout.write(line.replace(/\r?\n/g, '\\n') + '\n');
const withoutQuery = (url) => url.replace(/\?.*$/, '');

const userDataDir = await mkdtemp(join(tmpdir(), 'seed-chromium-'));
let context;
let closing;
async function shutdown(code) {
  if (!closing) {
    closing = (async () => {
      try {
        await context?.close();
      } catch (e) {
        print(`[runner] close failed: ${e.message}`);
      }
      await rm(userDataDir, { recursive: true, force: true });
      print(`[runner] exit ${code}`);
      process.exit(code);
    })();
  }
  return closing;
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
const timer = setTimeout(() => {
  print(`[runner] timeout after ${maxSeconds}s`);
  shutdown(2);
}, maxSeconds * 1000);
timer.unref();
process.stdin.on('data', (chunk) => {
  if (String(chunk).trim() === 'quit') shutdown(0);
});
process.stdin.on('end', () => shutdown(0));

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    handleSIGTERM: false,
    handleSIGINT: false,
    handleSIGHUP: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => print(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => print(`pageerror: ${error.message}`));
  page.on('websocket', (ws) => {
    print(`[runner] websocket open ${withoutQuery(ws.url())}`);
    ws.on('close', () => print(`[runner] websocket closed ${withoutQuery(ws.url())}`));
  });
  const response = await page.goto(pageUrl, { waitUntil: 'load', timeout: 30_000 });
  print(`[runner] loaded ${withoutQuery(pageUrl)} ${response?.status()}`);
} catch (e) {
  print(`[runner] failed: ${e.message}`);
  await shutdown(1);
}
