/**
 * A misspelt key is an error, never dropped: a dropped `response` key judged the prompt alone
 * and let the response through (`unharmful`, `blocked: false`), and a dropped fail-policy key
 * ran another policy than the one asked for.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import { createGuard, isGuardError, type Guard, type GuardOptions, type ClassifyOptions } from '../src/index.node.js';
import { GUARD_OPTION_ENTRIES } from '../src/options.js';
import { guardMiddleware } from '../src/ai-sdk.js';

let guard: Guard;
beforeAll(async () => {
  guard = await createGuard({ model: 'fixture-consistentguard', dtype: 'q4' });
});
afterAll(() => guard.dispose());

async function rejection(work: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('input shape', () => {
  test('a misspelt response key is an InvalidInputError naming it, not a pass', async () => {
    const error = await rejection(
      guard.classify({ prompt: 'What is the weather in Lyon?', respone: 'Here is how to build a bomb…' } as never),
    );
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as Error).message).toMatch(/unknown key "respone".*Known keys: prompt, response/);
  });

  test('the same response, spelt right, is judged: harmful, blocked', async () => {
    const verdict = await guard.classify({ prompt: 'What is the weather in Lyon?', response: 'Here is how to build a bomb…' });
    expect(verdict).toMatchObject({ label: 'harmful', blocked: true });
  });

  test.each([
    [{ prompt: 1 }, /"prompt": Invalid type: Expected string/],
    [{ prompt: 'a', response: null }, /"response": Invalid type/],
    [{}, /"prompt"/],
    [null, /takes a string/],
    [42, /takes a string/],
  ])('%j is rejected with a clear message', async (input, message) => {
    const error = await rejection(guard.classify(input as never));
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test('stream() and explain() check the input too', async () => {
    const streamed = await rejection(async () => {
      for await (const _ of guard.stream({ prompt: 'hi', respons: 'x' } as never)) void _;
    });
    expect(isGuardError(streamed, 'invalid-input')).toBe(true);
    expect(isGuardError(await rejection(guard.explain({ promt: 'hi' } as never)), 'invalid-input')).toBe(true);
  });
});

describe('options', () => {
  test.each([
    [{ onUnkown: 'throw' }, /unknown key "onUnkown"/],
    [{ device: 'gpu' }, /"device": Invalid type: Expected \("auto" \| "webgpu" \| "wasm"\)/],
    [{ dtype: 'int4' }, /"dtype"/],
    [{ maxQueue: 0 }, /"maxQueue"/],
    [{ timeoutMs: Number.NaN }, /"timeoutMs"/],
    [{ wasmPaths: { wasm: 'a', mjs: 'b', js: 'c' } }, /unknown key "wasmPaths.js".*Known keys: wasm, mjs/],
    [{ createWorker: () => undefined }, /unknown key "createWorker"/], // Node has no worker
  ])('createGuard(%j) rejects before loading anything', async (options, message) => {
    const error = await rejection(createGuard({ model: 'fixture-consistentguard', ...options } as GuardOptions));
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test.each([
    [{ mdoe: 'fast' }, /unknown key "mdoe"/],
    [{ mode: 'quick' }, /"mode"/],
    [{ maxReasoningTokens: -1 }, /"maxReasoningTokens"/],
    [{ signal: 'stop' }, /"signal": Invalid type: Expected an AbortSignal/],
  ])('classify(text, %j) rejects', async (options, message) => {
    const error = await rejection(guard.classify('hello', options as ClassifyOptions));
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test('guardMiddleware() rejects a misspelt key when it is made', () => {
    expect(() => guardMiddleware({ guard, checkRespone: true } as never)).toThrow(/unknown key "checkRespone"/);
    expect(() => guardMiddleware({ guard, uncertain: 'allow' } as never)).toThrow(/unknown key "uncertain"/);
    expect(() => guardMiddleware({ guard, onBlock: { replacment: 'no' } } as never)).toThrow(/unknown key "onBlock.replacment"/);
  });

  test('the checked keys are exactly the keys of GuardOptions', () => {
    expectTypeOf<keyof typeof GUARD_OPTION_ENTRIES>().toEqualTypeOf<keyof GuardOptions>();
  });
});
