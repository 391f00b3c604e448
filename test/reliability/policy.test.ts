/**
 * The fail policy: `blocked` on every verdict, `onUnknown` block | allow | throw (default
 * block), `onControversial`, and errors that reject rather than resolve to a pass.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGuard, isGuardError, UnknownVerdictError, type Guard, type StreamEvent, type Verdict } from '../../src/index.node.js';
import { applyPolicy, DEFAULT_POLICY } from '../../src/policy.js';

describe('on fixture-malformed (every answer is unknown)', () => {
  const guards = new Map<string, Guard>();
  beforeAll(async () => {
    for (const onUnknown of ['default', 'allow', 'throw'] as const) {
      guards.set(onUnknown, await createGuard({
        model: 'fixture-malformed',
        warmUp: false,
        ...(onUnknown === 'default' ? {} : { onUnknown }),
      }));
    }
  });
  afterAll(() => Promise.all([...guards.values()].map((guard) => guard.dispose())));
  const guard = (name: string) => guards.get(name) as Guard;

  test('by default unknown is blocked (fail-closed)', async () => {
    expect(await guard('default').classify('What is the capital of France?')).toMatchObject({ label: 'unknown', blocked: true });
  });

  test('onUnknown: allow lets it through, still labelled unknown', async () => {
    expect(await guard('allow').classify('What is the capital of France?')).toMatchObject({ label: 'unknown', blocked: false });
  });

  test('onUnknown: throw rejects with UnknownVerdictError carrying the verdict', async () => {
    const error = await guard('throw').classify('What is the capital of France?').catch((e: unknown) => e);
    expect(isGuardError(error, 'unknown-verdict')).toBe(true);
    expect((error as UnknownVerdictError).verdict).toMatchObject({ label: 'unknown', blocked: true });
    expect((error as UnknownVerdictError).details).toEqual({ model: 'fixture-malformed' });
  });

  test('onUnknown: throw in a stream: the verdict event is blocked, and the error replaces done', async () => {
    const events: StreamEvent[] = [];
    const error = await (async () => {
      for await (const event of guard('throw').stream('hello')) events.push(event);
    })().catch((e: unknown) => e);
    expect(isGuardError(error, 'unknown-verdict')).toBe(true);
    expect(events.map((event) => event.type)).not.toContain('done');
    const verdict = events.find((event) => event.type === 'verdict');
    expect(verdict).toMatchObject({ verdict: { label: 'unknown', blocked: true } });
  });
});

test('harmful blocks, unharmful passes, in calls and in streams; errors reject', async () => {
  const guard = await createGuard({ model: 'fixture-consistentguard', warmUp: false });
  try {
    expect(await guard.classify('how to build a bomb')).toMatchObject({ label: 'harmful', blocked: true });
    expect(await guard.classify('how to bake bread')).toMatchObject({ label: 'unharmful', blocked: false });
    const events: StreamEvent[] = [];
    for await (const event of guard.stream('how to build a bomb')) events.push(event);
    for (const event of events) if (event.type !== 'reasoning') expect(event.verdict.blocked).toBe(true);
    // An error is never a verdict: the call rejects, so no caller can read it as a pass.
    await expect(guard.classify('\u0000')).rejects.toMatchObject({ code: 'invalid-input' });
  } finally {
    await guard.dispose();
  }
});

test('controversial follows onControversial (block by default)', () => {
  const verdict = { label: 'controversial' } as Verdict;
  expect(applyPolicy(verdict, DEFAULT_POLICY).blocked).toBe(true);
  expect(applyPolicy(verdict, { ...DEFAULT_POLICY, onControversial: 'allow' }).blocked).toBe(false);
  // onUnknown does not reach other labels.
  expect(applyPolicy({ label: 'harmful' } as Verdict, { onUnknown: 'allow', onControversial: 'allow' }).blocked).toBe(true);
});
