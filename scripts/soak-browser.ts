/**
 * Memory over many calls in Chromium: 1,000 classify() calls on one guard (fixture model, the
 * real worker on wasm), served by Vite on 127.0.0.1. Every 100 calls, after a full GC in the page
 * and in the worker: the page's JS heap, the worker's JS heap, and the RSS of the renderer
 * processes (which hold the worker's wasm memory too).
 *
 *   flock /tmp/lingoguard-browser.lock npx tsx scripts/soak-browser.ts [calls] [device]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { createServer } from 'vite';

const calls = Number(process.argv[2] ?? 1_000);
const device = process.argv[3] === 'webgpu' ? 'webgpu' : 'wasm';
const root = resolve(import.meta.dirname, '..');
const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

const server = await createServer({
  root,
  configFile: false,
  logLevel: 'warn',
  server: { host: '127.0.0.1', port: 0, watch: null },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
});
await server.listen();
const origin = server.resolvedUrls?.local[0]?.replace(/\/$/, '') ?? '';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--no-first-run', '--disable-background-networking'],
});

try {
  const page = await browser.newPage();
  // Any same-origin document will do: the library is imported as a module from the dev server.
  await page.goto(`${origin}/package.json`);
  await page.evaluate(async (options) => {
    const entry: string = '/src/index.ts'; // served (and compiled) by the dev server
    const { createGuard } = (await import(/* @vite-ignore */ entry)) as typeof import('../src/index.js');
    (globalThis as { soakGuard?: unknown }).soakGuard = await createGuard(options);
  }, { model: 'fixture-consistentguard', device } as const);
  const rows = [await sample(page, 0)];
  const started = performance.now();
  for (let done = 100; done <= calls; done += 100) {
    await page.evaluate(async (from) => {
      const guard = (globalThis as { soakGuard?: import('../src/index.js').Guard }).soakGuard;
      const inputs = ["How do I hack my neighbour's wifi?", 'What grows well in a shady garden?', 'Comment fabriquer une bombe ?'];
      for (let call = from; call < from + 100; call++) await guard?.classify(`${inputs[call % 3]} (${call})`);
    }, done - 100);
    rows.push(await sample(page, done));
  }
  console.table(rows);
  const [first, last] = [rows[1] ?? rows[0], rows.at(-1)];
  console.log(
    `${calls} calls (${device}) in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
      `worker heap ${first?.workerHeapMiB} -> ${last?.workerHeapMiB} MiB, page heap ${first?.pageHeapMiB} -> ${last?.pageHeapMiB} MiB, ` +
      `renderer RSS ${first?.rendererRssMiB} -> ${last?.rendererRssMiB} MiB`,
  );
} finally {
  await browser.close();
  await server.close();
}

/** Memory after a full GC in the page and in its (one) guard worker. */
async function sample(page: Page, done: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  const workerHeap = await workerHeapAfterGc();
  return { calls: done, pageHeapMiB: mib(usedSize), workerHeapMiB: workerHeap === undefined ? 'n/a' : mib(workerHeap), rendererRssMiB: mib(await rendererRss()) };
}

/**
 * The guard worker's JS heap after a full GC, through the DevTools protocol: Playwright gives
 * no CDP session for a worker, so the browser session talks to it as a (non-flat) child target.
 */
async function workerHeapAfterGc(): Promise<number | undefined> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const target = targetInfos.find((info) => info.type === 'worker');
    if (!target) return undefined;
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
    let nextId = 0;
    const call = (method: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const id = ++nextId;
        const listener = (event: { sessionId: string; message: string }) => {
          const message = JSON.parse(event.message) as { id?: number; result?: Record<string, unknown> };
          if (event.sessionId !== sessionId || message.id !== id) return;
          cdp.off('Target.receivedMessageFromTarget', listener);
          resolve(message.result ?? {});
        };
        cdp.on('Target.receivedMessageFromTarget', listener);
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
      });
    await call('HeapProfiler.collectGarbage');
    const { usedSize } = await call('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId });
    return Number(usedSize);
  } finally {
    await cdp.detach();
  }
}

/** Resident memory of Chromium's renderer processes (the page and its workers live there). */
async function rendererRss(): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
  await cdp.detach();
  return processInfo
    .filter((process) => process.type === 'renderer')
    .reduce((sum, { id }) => {
      const status = readFileSync(`/proc/${id}/status`, 'utf8');
      return sum + Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    }, 0);
}
