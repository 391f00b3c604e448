/**
 * The worker contract, both sides in one realm over a MessageChannel: what crosses (events in
 * order, typed errors), cancellation, and what happens when the far side dies.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { endpointConnection, type EndpointLifecycle } from '../../src/connection.js';
import { InvalidInputError, ModelLoadError, WorkerCrashedError, isGuardError } from '../../src/errors.js';
import { openGuard, type Guard } from '../../src/guard.js';
import { exposeRuntime } from '../../worker/expose.js';
import type { ClassifyRequest, WorkerApi } from '../../src/protocol.js';
import type { GuardInfo, StreamEvent, Verdict } from '../../src/types.js';

const INFO: GuardInfo = {
  model: 'scripted', family: 'consistentguard', testModel: true, reasoningModel: true,
  device: 'cpu', dtype: 'fp32', contextLength: 512, loadMs: 0,
};

/** A runtime that streams a scripted trace, one piece per tick, like a model would. */
class ScriptedRuntime implements WorkerApi {
  aborted = new Set<number>();
  started: number[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly pieces: string[], private readonly failLoad = false) {}
  async load(): Promise<GuardInfo> {
    if (this.failLoad) throw new ModelLoadError('no such model', { details: { model: 'x' } });
    return INFO;
  }
  classify(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict> {
    const run = this.tail.then(() => this.run(request, onEvent));
    this.tail = run.catch(() => undefined);
    return run;
  }
  private async run(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict> {
    this.started.push(request.id);
    if (request.input.prompt === '') throw new InvalidInputError('empty', { details: { field: 'prompt' } });
    let raw = '';
    for (const piece of this.pieces) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.aborted.has(request.id)) throw new Error('aborted in runtime');
      raw += piece;
      onEvent?.({ type: 'reasoning', text: piece });
    }
    const verdict: Verdict = {
      label: request.input.prompt.includes('bomb') ? 'harmful' : 'unharmful',
      categories: [], reasoning: raw, language: { code: 'en', script: 'Latn', confidence: 1 },
      model: 'scripted', timings: { totalMs: 1 }, raw, path: 'reasoned',
    };
    onEvent?.({ type: 'verdict', verdict });
    onEvent?.({ type: 'done', verdict });
    return verdict;
  }
  abort(id: number): void { this.aborted.add(id); }
  async dispose(): Promise<void> {}
}

const open: Guard[] = [];
afterEach(async () => { await Promise.all(open.splice(0).map((guard) => guard.dispose())); });

/** A guard whose "worker" is a runtime behind a MessageChannel; `kill` simulates its death. */
async function channelGuard(makeRuntime: () => WorkerApi) {
  let connections = 0;
  let kill = () => {};
  const runtimes: WorkerApi[] = [];
  const guard = await openGuard(() => {
    connections++;
    const { port1, port2 } = new MessageChannel();
    const runtime = makeRuntime();
    runtimes.push(runtime);
    exposeRuntime(runtime, port1);
    const lifecycle: EndpointLifecycle = {
      watch: (onDeath) => { kill = () => onDeath(new WorkerCrashedError('killed by the test')); },
      terminate: () => { port1.close(); port2.close(); },
    };
    return endpointConnection(port2, lifecycle);
  }, { model: 'scripted' }, {});
  open.push(guard);
  return { guard, kill: () => kill(), connections: () => connections, runtimes };
}

describe('worker protocol over a MessageChannel', () => {
  test('streams reasoning in order, then the verdict, then done', async () => {
    const pieces = ['The ', 'request ', 'asks ', 'about ', 'a ', 'bomb.'];
    const { guard } = await channelGuard(() => new ScriptedRuntime(pieces));
    const events: StreamEvent[] = [];
    for await (const event of guard.stream('how to build a bomb')) events.push(event);
    expect(events.map((e) => e.type)).toEqual([...pieces.map(() => 'reasoning'), 'verdict', 'done']);
    expect(events.filter((e) => e.type === 'reasoning').map((e) => (e as { text: string }).text)).toEqual(pieces);
    expect(events.at(-1)).toMatchObject({ type: 'done', verdict: { label: 'harmful', reasoning: pieces.join('') } });
  });

  test('errors keep their class, code and details across the boundary', async () => {
    const { guard } = await channelGuard(() => new ScriptedRuntime(['x']));
    const error = await guard.classify('').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as InvalidInputError).details).toEqual({ field: 'prompt' });
  });

  test('a failed load rejects createGuard with ModelLoadError', async () => {
    const error = await channelGuard(() => new ScriptedRuntime([], true)).catch((e: unknown) => e);
    expect(isGuardError(error, 'model-load-failed')).toBe(true);
    expect(error).toBeInstanceOf(ModelLoadError);
  });

  test('abort mid-trace rejects at once, stops the runtime, and the next call works', async () => {
    const pieces = Array.from({ length: 40 }, (_, i) => `w${i} `);
    const { guard, runtimes } = await channelGuard(() => new ScriptedRuntime(pieces));
    const controller = new AbortController();
    const seen: string[] = [];
    const streaming = (async () => {
      for await (const event of guard.stream('slow one', { signal: controller.signal })) {
        if (event.type === 'reasoning') seen.push(event.text);
        if (seen.length === 3) controller.abort();
      }
    })();
    const error = await streaming.catch((e: unknown) => e);
    expect(isGuardError(error, 'aborted')).toBe(true);
    expect(seen.length).toBeLessThan(pieces.length);
    const runtime = runtimes[0] as ScriptedRuntime;
    await expect.poll(() => runtime.aborted.size).toBe(1);
    const next = await guard.classify('a bomb');
    expect(next.label).toBe('harmful');
  });

  test('calls run one at a time, in submission order', async () => {
    const { guard, runtimes } = await channelGuard(() => new ScriptedRuntime(['a', 'b']));
    const labels = await Promise.all(['x', 'bomb', 'y', 'bomb again'].map((text) => guard.classify(text)));
    expect(labels.map((v) => v.label)).toEqual(['unharmful', 'harmful', 'unharmful', 'harmful']);
    expect((runtimes[0] as ScriptedRuntime).started).toEqual([1, 2, 3, 4]);
  });

  test('a dead worker rejects pending calls with WorkerCrashedError; the next call gets a fresh one', async () => {
    const pieces = Array.from({ length: 40 }, () => '.');
    const { guard, kill, connections } = await channelGuard(() => new ScriptedRuntime(pieces));
    const pending = [guard.classify('one'), guard.classify('two')];
    setTimeout(kill, 20);
    for (const call of pending) {
      const error = await call.catch((e: unknown) => e);
      expect(isGuardError(error, 'worker-crashed')).toBe(true);
    }
    expect(connections()).toBe(1);
    expect((await guard.classify('a bomb')).label).toBe('harmful');
    expect(connections()).toBe(2);
  });

  test('a call past its timeout rejects with TimeoutError', async () => {
    const pieces = Array.from({ length: 100 }, () => '.');
    const { guard } = await channelGuard(() => new ScriptedRuntime(pieces));
    const error = await guard.classify('slow', { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(isGuardError(error, 'timed-out')).toBe(true);
  });

  test('input that is not text is refused before it reaches the runtime', async () => {
    const { guard } = await channelGuard(() => new ScriptedRuntime(['x']));
    for (const bad of [42, null, { text: 'x' }, { prompt: 1 }]) {
      const error = await guard.classify(bad as never).catch((e: unknown) => e);
      expect(isGuardError(error, 'invalid-input')).toBe(true);
    }
  });
});
