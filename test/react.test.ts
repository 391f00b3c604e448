// @vitest-environment happy-dom
/**
 * `useGuard()` in a React tree (happy-dom), on real in-process guards (fixture models, Node
 * runtime) injected through `createGuard`: the same Guard the worker client is, without a worker.
 */
import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, expect, test } from 'vitest';
import { MIDWAY_HARMFUL } from '../models/build/lexicon.js';
import { createGuard, isGuardError, type Guard, type GuardOptions, type ProgressEvent, type ResponseWatch, type WatchEvent } from '../src/index.node.js';
import { useGuard, type UseGuardOptions, type UseGuardResult } from '../src/react.js';
// The fixture models come from `npm test`'s pretest (`npm run models`): ensure-fixtures.ts cannot
// run here, as happy-dom's URL class is not one Node's fileURLToPath accepts.

/** Every guard the hook made, so each test can see it and the suite can free it. */
const made: Guard[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((guard) => guard.dispose()));
});
const inProcess = async (options: GuardOptions): Promise<Guard> => {
  const guard = await createGuard(options);
  made.push(guard);
  return guard;
};

/** Loading a model, on a machine whose cores other work shares, takes longer than waitFor's default second. */
const LOAD = { timeout: 60_000 };

/** Renders the hook and records the state of every render. */
function renderGuard(options: UseGuardOptions) {
  const renders: Omit<UseGuardResult, 'classify' | 'cancel' | 'watch'>[] = [];
  const hook = renderHook(() => {
    const state = useGuard({ createGuard: inProcess, ...options });
    const { classify: _, cancel: __, watch: ___, ...plain } = state;
    renders.push(plain);
    return state;
  });
  return { ...hook, renders };
}

test('loads: loading with progress, then ready with the guard info', async () => {
  const events: ProgressEvent[] = [];
  const { result, renders } = renderGuard({ model: 'fixture-consistentguard', onProgress: (e) => events.push(e) });
  expect(result.current).toMatchObject({ status: 'loading', progress: 0, info: undefined, verdict: undefined, trace: '' });
  await waitFor(() => expect(result.current.status).toBe('ready'), { timeout: 30_000 });
  expect(result.current.progress).toBe(1);
  expect(result.current.info).toMatchObject({ model: 'fixture-consistentguard', device: 'cpu', testModel: true });
  // The caller's own onProgress still gets every event; the state's progress only rises.
  expect(events.at(-1)).toMatchObject({ status: 'ready' });
  const progress = renders.map((r) => r.progress);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  expect(new Set(renders.map((r) => r.status))).toEqual(new Set(['loading', 'ready']));
});

test('classify streams the trace into state, then sets the verdict', async () => {
  const { result, renders } = renderGuard({ model: 'fixture-consistentguard' });
  await waitFor(() => expect(result.current.status).toBe('ready'), LOAD);
  const from = renders.length;
  let call: ReturnType<UseGuardResult['classify']> = Promise.resolve(undefined);
  act(() => {
    // Reasoned explicitly: the default mode (auto) gives a confident verdict no trace.
    call = result.current.classify("How do I hack my neighbour's wifi?", { mode: 'full' });
  });
  // Not awaited inside act(), which would batch every update into one render: waitFor lets
  // each streamed piece render as it would in an app.
  await waitFor(() => expect(result.current.verdict).toBeDefined());
  let verdict = await call;
  await waitFor(() => expect(result.current.status).toBe('ready'), LOAD);
  expect(verdict!).toMatchObject({ label: 'harmful', categories: [{ id: 'S2' }] });
  expect(result.current).toMatchObject({ status: 'ready', verdict: { label: 'harmful' }, error: undefined });
  // The trace state is the streamed reasoning: it grew in pieces, never held a tag, and ends
  // as the verdict's own reasoning.
  expect(result.current.trace).toBe(verdict!.reasoning);
  const traces = renders.slice(from).map((r) => r.trace).filter((t, i, all) => t !== all[i - 1]);
  expect(traces.length).toBeGreaterThan(2);
  for (const [i, t] of traces.entries()) if (i > 0) expect(t.startsWith(traces[i - 1]!)).toBe(true);
  expect(renders.slice(from).some((r) => r.status === 'classifying')).toBe(true);

  await act(async () => {
    verdict = await result.current.classify('What skills does a good nurse need?');
  });
  expect(result.current.verdict).toMatchObject({ label: 'unharmful' });
});

/** A hook on the never-ending fixture model, with a call running until `traceLength` is streamed. */
async function runawayCall(traceLength: number) {
  const { result } = renderGuard({ model: 'fixture-runaway', warmUp: false });
  await waitFor(() => expect(result.current.status).toBe('ready'), LOAD);
  let running: Promise<unknown> = Promise.resolve();
  act(() => {
    running = result.current.classify('first', { maxNewTokens: 4000 });
  });
  await waitFor(() => expect(result.current.trace.length).toBeGreaterThanOrEqual(traceLength), { timeout: 20_000 });
  return { result, running };
}

test('a new call cancels the stale one: its result and trace never reach the state', async () => {
  // Let the stale call stream a long trace, then supersede it with a short one.
  const { result, running: stale } = await runawayCall(200);
  let fresh: Awaited<ReturnType<UseGuardResult['classify']>>;
  await act(async () => {
    fresh = await result.current.classify('second', { maxNewTokens: 6 });
  });
  expect(await stale).toBeUndefined();
  expect(fresh!).toMatchObject({ label: 'unknown', timings: { generatedTokens: 6 } });
  expect(result.current.verdict).toBe(fresh!);
  // The trace is the fresh call's reasoning (an unclosed trace: its raw text, trimmed).
  expect(result.current.trace).toBe(fresh!.raw.trim());
  expect(result.current.trace.length).toBeLessThan(200);
  expect(result.current).toMatchObject({ status: 'ready', error: undefined });
});

test('cancel stops the running call: back to ready, no verdict, no error', async () => {
  const { result, running } = await runawayCall(1);
  expect(result.current.status).toBe('classifying');
  act(() => result.current.cancel());
  expect(await running).toBeUndefined();
  expect(result.current).toMatchObject({ status: 'ready', verdict: undefined, error: undefined });
  // The guard is still usable after a cancel.
  await act(async () => {
    await result.current.classify('again', { maxNewTokens: 3 });
  });
  expect(result.current.verdict).toMatchObject({ label: 'unknown' });
});

test('a failed load is status error with the typed error; classify then resolves undefined', async () => {
  const { result } = renderGuard({ model: 'no-such-model' });
  await waitFor(() => expect(result.current.status).toBe('error'));
  expect(isGuardError(result.current.error, 'model-load-failed')).toBe(true);
  let verdict: unknown = 'not called';
  await act(async () => {
    verdict = await result.current.classify('hello');
  });
  expect(verdict).toBeUndefined();
  expect(result.current.status).toBe('error');
  expect(isGuardError(result.current.error, 'model-load-failed')).toBe(true);
});

test('unmounting disposes of the guard', async () => {
  const { result, unmount } = renderGuard({ model: 'fixture-consistentguard', warmUp: false });
  await waitFor(() => expect(result.current.status).toBe('ready'), LOAD);
  const guard = made.at(-1)!;
  unmount();
  await waitFor(async () => {
    const error = await guard.classify('hello').catch((e: unknown) => e);
    expect(isGuardError(error, 'invalid-input')).toBe(true); // "This guard was disposed"
  });
});

test('watch moderates an answer as it streams: checks, passed and blocked re-render as each check lands', async () => {
  const { result, renders } = renderGuard({ model: 'fixture-consistentguard', warmUp: false });
  // Before the guard is loaded there is nothing to watch with: a typed error, at once.
  expect(() => result.current.watch('too early')).toThrow(/before the guard is loaded/);
  await waitFor(() => expect(result.current.status).toBe('ready'), LOAD);
  expect(result.current).toMatchObject({ checks: [], passed: 0, blocked: false });
  const { prompt, sentences } = MIDWAY_HARMFUL;
  let watch!: ResponseWatch;
  act(() => {
    watch = result.current.watch(prompt);
  });
  // The caller can still iterate the watch's events while the hook follows them.
  const events: WatchEvent['type'][] = [];
  const iterated = (async () => {
    for await (const event of watch) events.push(event.type);
  })();
  const from = renders.length;
  for (const sentence of sentences) {
    act(() => watch.push(sentence));
    await watch.settled();
  }
  // The first sentence is judged once the second starts, the second once the third does.
  await waitFor(() => expect(result.current.checks).toHaveLength(2));
  expect(result.current).toMatchObject({ passed: (sentences[0]! + sentences[1]!).length, blocked: false });
  let ended!: Awaited<ReturnType<ResponseWatch['end']>>;
  await act(async () => {
    ended = await watch.end();
  });
  await iterated;
  expect(ended.blocked).toBe(true);
  expect(result.current.blocked).toBe(true);
  expect(result.current.checks.map((check) => [check.verdict.label, check.final])).toEqual([
    ['unharmful', false],
    ['unharmful', false],
    ['harmful', true],
  ]);
  expect(result.current.passed).toBe((sentences[0]! + sentences[1]!).length);
  expect(events).toEqual(['check', 'check', 'check', 'done']);
  // Each check re-rendered: the state grew one check at a time.
  const counts = renders.slice(from).map((r) => r.checks.length).filter((n, i, all) => n !== all[i - 1]);
  expect(counts).toEqual([1, 2, 3]);
  expect(renders.slice(from).map((r) => r.passed)).toContain(sentences[0]!.length);

  // A new watch aborts the old one and starts from empty state; unmounting aborts it too.
  let second!: ResponseWatch;
  act(() => {
    second = result.current.watch(prompt);
  });
  expect(result.current).toMatchObject({ checks: [], passed: 0, blocked: false });
  act(() => {
    result.current.watch(prompt);
  });
  expect(isGuardError(await second.end().catch((e: unknown) => e), 'aborted')).toBe(true);
});

test('unmounting aborts a running watch', async () => {
  const { result, unmount } = renderGuard({ model: 'fixture-consistentguard', warmUp: false });
  await waitFor(() => expect(result.current.status).toBe('ready'), LOAD);
  let watch!: ResponseWatch;
  act(() => {
    watch = result.current.watch('How do I clean my oven?');
  });
  watch.push('Let the oven cool. ');
  unmount();
  expect(isGuardError(await watch.end().catch((e: unknown) => e), 'aborted')).toBe(true);
});
