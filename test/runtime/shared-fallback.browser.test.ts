/**
 * Sharing is the default: where the shared worker cannot start (here its script is missing, as
 * with a bundler that did not emit it or a CSP that forbids it), the guard runs in a dedicated
 * worker instead, says why in `info.sharing`, and so do this page's later guards.
 */
import { afterAll, expect, test } from 'vitest';
import { createGuard } from '../../src/index.js';

const RealSharedWorker = globalThis.SharedWorker;
afterAll(() => {
  globalThis.SharedWorker = RealSharedWorker;
});

test('a shared worker that cannot start: a dedicated worker runs the guard, and info says why', async () => {
  let made = 0;
  globalThis.SharedWorker = class extends RealSharedWorker {
    constructor(_url: string | URL, options?: string | WorkerOptions) {
      made++;
      super('/no-such-shared-worker.js', options);
    }
  };
  const guard = await createGuard({ model: 'fixture-consistentguard', device: 'wasm', warmUp: false });
  expect(guard.info.sharing).toEqual({ shared: false, reason: expect.stringMatching(/^the shared worker could not start \(.+\): a dedicated one runs instead$/) });
  expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
  await guard.dispose();
  // The page has learnt: the next guard does not try again.
  const next = await createGuard({ model: 'fixture-consistentguard', device: 'wasm', warmUp: false });
  expect(next.info.sharing?.shared).toBe(false);
  await next.dispose();
  expect(made).toBe(1);
});
