/**
 * Load in Node: 200 concurrent calls on the fixture, in-process on onnxruntime-node; and the
 * per-call bookkeeping that must not pile up (the 1,000-call memory figures: scripts/soak.ts).
 */
import { expect, test } from 'vitest';
import { openGuard } from '../../src/guard.js';
import { createGuard } from '../../src/index.node.js';
import { runLoad } from './load.js';

test('200 concurrent calls all settle in order with their own verdicts; call 201 gets QueueFullError', async () => {
  const guard = await createGuard({ model: 'fixture-consistentguard', maxQueue: 200, warmUp: false });
  try {
    const elapsed = await runLoad(guard, 200);
    expect(elapsed).toBeLessThan(30_000);
  } finally {
    await guard.dispose();
  }
});

test('1,000 calls leave nothing behind on a long-lived connection (no per-call listener on its death)', async () => {
  let handlers = 0;
  const never = new Promise<never>(() => undefined);
  // Counts every handler attached to the connection's `dead` promise.
  const dead = Object.assign(Object.create(never) as Promise<never>, {
    then: (...args: Parameters<Promise<never>['then']>) => {
      handlers++;
      return never.then(...args);
    },
    catch: (onRejected: Parameters<Promise<never>['catch']>[0]) => {
      handlers++;
      return never.catch(onRejected);
    },
  });
  const verdict = { label: 'harmful', categories: [], reasoning: '', language: { code: 'en', script: 'Latn', confidence: 1 }, model: 'x', timings: { totalMs: 1 }, raw: '', path: 'fast' } as const;
  const guard = await openGuard(() => ({
    dead,
    load: async () => ({ model: 'x', family: 'consistentguard', testModel: true, reasoningModel: true, device: 'cpu', dtype: 'fp32', contextLength: 16, loadMs: 0 }),
    classify: async () => ({ ...verdict, categories: [] }),
    abort: () => undefined,
    dispose: async () => undefined,
  }), { model: 'x' }, {});
  for (let call = 0; call < 1_000; call++) await guard.classify('hello');
  expect(handlers).toBe(1);
  await guard.dispose();
});
