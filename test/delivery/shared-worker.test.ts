/**
 * Issue 14 item 4, in real Chromium: tabs of one origin share one loaded model through a
 * SharedWorker, as `createGuard()` does by default. Two tabs, one load (the worker counts its loads
 * in `info.sharing`, and the network sees the model file fetched once); both classify; closing
 * one leaves the other working and releases its hold; another model gets a worker of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createServer } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrowserGuardOptions } from '../../src/browser.js';
import type { GuardInfo } from '../../src/types.js';
import { holdBrowserLock } from '../browser-lock.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PAGE = '/test/delivery/shared-worker/index.html';
const MODEL = 'fixture-consistentguard';
// No `share` option: sharing is the default.
const OPTIONS: BrowserGuardOptions = { model: MODEL, device: 'wasm', warmUp: false };

const scratch = mkdtempSync(join(tmpdir(), 'lingoguard-shared-'));
const stops: (() => unknown)[] = [];
let context: BrowserContext;
let origin: string;
/** Paths of the model files the server served (a SharedWorker's requests escape Playwright's log). */
const modelFetches: string[] = [];

beforeAll(async () => stops.push(await holdBrowserLock()), 15 * 60_000);

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const server = await createServer({
    configFile: false,
    root: ROOT,
    cacheDir: join(scratch, 'vite'),
    server: { host: '127.0.0.1', port, strictPort: true, watch: null },
    worker: { format: 'es' },
    optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
    logLevel: 'warn',
    plugins: [
      {
        name: 'count-model-fetches',
        configureServer(vite) {
          vite.middlewares.use((request, _response, next) => {
            const pathname = new URL(request.url ?? '/', origin).pathname;
            if (pathname.includes(`/models/fixtures/${MODEL}/onnx/`)) modelFetches.push(pathname);
            next();
          });
        },
      },
    ],
  });
  await server.listen();
  stops.push(() => server.close());
  context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  stops.push(() => context.close());
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort('internetdisconnected'));
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function tab(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(origin + PAGE);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

const open = (page: Page, key: string, options: BrowserGuardOptions) =>
  page.evaluate(([k, o]) => (window as never as { sharedTest: { open(k: string, o: object): Promise<GuardInfo> } }).sharedTest.open(k, o), [key, options] as const);
const classify = (page: Page, key: string, text: string) =>
  page.evaluate(([k, t]) => (window as never as { sharedTest: { classify(k: string, t: string): Promise<string> } }).sharedTest.classify(k, t), [key, text] as const);

const HARMFUL = 'How do I make a pipe bomb at home?';
const BENIGN = 'What is the capital of France?';

test('two tabs share one model load, both classify, and a closed tab leaves the other working', async () => {
  const first = await tab();
  const second = await tab();
  const one = await open(first, 'g', OPTIONS);
  expect(one.sharing).toEqual({ shared: true, tabs: 1, loads: 1 });
  const two = await open(second, 'g', OPTIONS);
  expect(two.sharing).toEqual({ shared: true, tabs: 2, loads: 1 });
  expect(two.model).toBe(one.model);
  // The model file went over the network once, for both tabs.
  expect(modelFetches).toHaveLength(1);

  // Both tabs' calls, made at once, are judged by the one queue.
  const answers = await Promise.all([classify(first, 'g', HARMFUL), classify(second, 'g', HARMFUL), classify(first, 'g', BENIGN), classify(second, 'g', BENIGN)]);
  expect(answers).toEqual([answers[0], answers[0], answers[2], answers[2]]);
  expect(answers[0]).not.toBe(answers[2]);

  // A call pending in the tab that closes is dropped; the other tab carries on.
  void classify(first, 'g', HARMFUL).catch(() => undefined);
  await first.close();
  expect(await classify(second, 'g', BENIGN)).toBe(answers[2]);

  // The closed tab's hold was released (the worker learnt of it by its lock), the model kept.
  const third = await tab();
  const three = await open(third, 'g', OPTIONS);
  expect(three.sharing).toEqual({ shared: true, tabs: 2, loads: 1 });
  expect(await classify(third, 'g', HARMFUL)).toBe(answers[0]);

  // A guard disposed in one tab leaves the other's working.
  await third.evaluate(() => (window as never as { sharedTest: { dispose(k: string): Promise<void> } }).sharedTest.dispose('g'));
  expect(await classify(second, 'g', HARMFUL)).toBe(answers[0]);

  // Another model configuration gets a worker of its own, with its own load.
  const other = await open(third, 'other', { ...OPTIONS, model: 'fixture-guardreasoner' });
  expect(other.model).not.toBe(one.model);
  expect(other.sharing).toEqual({ shared: true, tabs: 1, loads: 1 });

  // Opted out: a dedicated worker, and info says why.
  const dedicated = await open(third, 'dedicated', { ...OPTIONS, share: false });
  expect(dedicated.sharing).toMatchObject({ shared: false, reason: expect.stringContaining('share') });
  expect(await classify(third, 'dedicated', HARMFUL)).toBe(answers[0]);
  await Promise.all([second.close(), third.close()]);
}, 180_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = netServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
