/**
 * The shared worker's multiplexer (worker/shared-runtime.ts) over a recording fake runtime:
 * one load for all tabs, tab ids renamed apart, a leaving tab's calls aborted and watches
 * freed, and the model freed only when the last tab leaves. The real worker, in Chromium, is
 * test/delivery/shared-worker.test.ts.
 */
import { describe, expect, test } from 'vitest';
import type { ClassifyRequest, LoadRequest, WorkerApi } from '../../src/protocol.js';
import type { GuardInfo, ProgressEvent, Verdict } from '../../src/types.js';
import { SharedRuntime } from '../../worker/shared-runtime.js';

const INFO = { model: 'm', family: 'guardreasoner', testModel: true, reasoningModel: true, device: 'wasm', dtype: 'fp32', contextLength: 8, loadMs: 0 } as GuardInfo;
const REQUEST: LoadRequest = { model: 'm', device: 'wasm' };

/** A runtime that records what it is asked, and holds each call until released. */
function fakeRuntime() {
  const log: string[] = [];
  const pending = new Map<number, () => void>();
  const runtime: WorkerApi = {
    async load(request) {
      log.push(`load ${String(request.model)}`);
      await Promise.resolve();
      return INFO;
    },
    classify(request: ClassifyRequest) {
      log.push(`classify ${request.id}${request.watch ? ` watch ${request.watch.id}` : ''}`);
      return new Promise<Verdict>((resolve) => pending.set(request.id, () => resolve({ label: 'unharmful' } as Verdict)));
    },
    abort: (id) => log.push(`abort ${id}`),
    endWatch: async (id) => void log.push(`endWatch ${id}`),
    dispose: async () => void log.push('dispose'),
  };
  return { runtime, log, pending };
}

describe('SharedRuntime', () => {
  test('loads once for two tabs, the second told it is ready', async () => {
    const { runtime, log } = fakeRuntime();
    const shared = new SharedRuntime(runtime);
    const events: ProgressEvent[] = [];
    const [a, b] = await Promise.all([shared.client().load(REQUEST), shared.client().load({ ...REQUEST, warmUp: false }, (e) => events.push(e))]);
    expect(log).toEqual(['load m']);
    expect(a.sharing).toEqual({ shared: true, tabs: 2, loads: 1 });
    expect(b.sharing).toEqual({ shared: true, tabs: 2, loads: 1 });
    expect(events).toEqual([{ status: 'ready', info: INFO }]);
  });

  test('refuses another configuration in the same worker', async () => {
    const shared = new SharedRuntime(fakeRuntime().runtime);
    await shared.client().load(REQUEST);
    await expect(shared.client().load({ ...REQUEST, dtype: 'q4' })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  test('renames tab ids apart, aborts a leaving tab\'s calls, frees the model after the last tab', async () => {
    const { runtime, log, pending } = fakeRuntime();
    const shared = new SharedRuntime(runtime);
    const one = shared.client();
    const two = shared.client();
    await one.load(REQUEST);
    await two.load(REQUEST);
    log.length = 0;
    const first = one.classify({ id: 1, input: { prompt: 'a' }, watch: { id: 1 } });
    const second = two.classify({ id: 1, input: { prompt: 'b' }, watch: { id: 1 } });
    expect(log).toEqual(['classify 1 watch 2', 'classify 3 watch 4']);
    two.abort(1);
    expect(log.at(-1)).toBe('abort 3');
    await one.dispose();
    expect(log.slice(3)).toEqual(['abort 1', 'endWatch 2']); // the model stays: tab two holds it
    pending.get(1)!();
    pending.get(3)!();
    await Promise.all([first, second]);
    await two.dispose();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(log.slice(5)).toEqual(['endWatch 4', 'dispose']);
    await expect(one.classify({ id: 2, input: { prompt: 'c' } })).rejects.toMatchObject({ code: 'invalid-input' });
    // A tab that comes after the last one left loads the model again.
    expect((await shared.client().load(REQUEST)).sharing).toEqual({ shared: true, tabs: 1, loads: 2 });
  });
});

test('a call that fails untyped means the runtime broke: the worker is told to close, and why', async () => {
  const { runtime } = fakeRuntime();
  const broken: unknown[] = [];
  const shared = new SharedRuntime({ ...runtime, classify: () => Promise.reject(new Error('wasm trap')) }, (error) => broken.push(error));
  const tab = shared.client();
  await tab.load(REQUEST);
  await expect(tab.classify({ id: 1, input: { prompt: 'a' } })).rejects.toThrow('wasm trap');
  expect(broken).toEqual([new Error('wasm trap')]);
});
