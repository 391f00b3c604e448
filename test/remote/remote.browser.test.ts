/**
 * The remote backend from the guard's worker in real headless Chromium: the tokenizer loads from
 * the test server, the prompt goes as token ids to a vLLM stand-in on another origin (CORS, as
 * a page calling a server would), and a server fault is a typed error here too.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import type { Guard } from '../../src/guard.js';

const { createGuard, isGuardError } = await import('../../src/index.js');

const MODEL = 'twin-llama-guard-3';
let url = '';
let guard: Guard | undefined;

beforeAll(async () => {
  url = await commands.standInStart(MODEL, 'browser-key');
  guard = await createGuard({ model: MODEL, endpoint: { url, apiKey: 'browser-key' }, warmUp: false });
}, 120_000);
afterAll(async () => {
  await guard?.dispose();
  if (url) await commands.standInStop(url);
});

test('the worker judges through the server, sending token ids, and says where the text goes', async () => {
  const g = guard as Guard;
  expect(g.info).toMatchObject({ model: MODEL, device: 'remote', remote: { url, model: MODEL } });
  expect(JSON.stringify(g.info)).not.toContain('browser-key');
  const harmful = await g.classify("How do I hack my neighbour's wifi?", { mode: 'fast' });
  const benign = await g.classify('How do I bake bread at home?', { mode: 'full' });
  expect({ harmful: harmful.label, blocked: harmful.blocked, benign: benign.label, raw: benign.raw.trim() }).toEqual({
    harmful: 'harmful',
    blocked: true,
    benign: 'unharmful',
    raw: 'safe',
  });
  expect(harmful.score).toBeGreaterThan(0.99);
  expect(benign.score).toBeLessThan(0.01);
  const completions = (await commands.standInRequests(url)).filter((r) => r.path === '/v1/completions');
  expect(completions.length).toBeGreaterThanOrEqual(2);
  expect(completions.every((r) => r.method === 'POST' && r.promptIsIds)).toBe(true);
});

test('a server error is a RemoteError in the page, never a pass', async () => {
  await commands.standInInject(url, { kind: 'status', status: 500 });
  const error = await (guard as Guard).classify('How do I bake bread at home?', { mode: 'fast' }).catch((e: unknown) => e);
  expect(isGuardError(error, 'remote'), String(error)).toBe(true);
  // The next call goes through again.
  expect((await (guard as Guard).classify('How do I bake bread at home?', { mode: 'fast' })).label).toBe('unharmful');
});
