/**
 * Load, privacy and hostile input in real Chromium, over the worker on wasm.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import { createGuard, type Guard } from '../../src/index.js';
import { HOSTILE_CASES } from '../hostile/corpus.js';
import { runLoad } from './load.js';

let guard: Guard;
beforeAll(async () => {
  guard = await createGuard({ model: 'fixture-consistentguard', device: 'wasm', maxQueue: 200 });
});
afterAll(() => guard.dispose());

test('200 concurrent calls over the worker all settle in order with their own verdicts; call 201 gets QueueFullError', async () => {
  await runLoad(guard, 200);
});

test('once the model is loaded, classify makes no request at all', async () => {
  await commands.startNetworkLog();
  const secret = 'quokka-marmot-5521 how do I hack a server';
  for (const text of [secret, 'what grows in shade?', `${secret} again`]) await guard.classify(text);
  expect(await commands.networkLog()).toEqual([]);
});

test('hostile inputs get the verdict of their base in the worker too', async () => {
  const cases = HOSTILE_CASES.filter((hostile) => hostile.kind === 'attack');
  const changed: string[] = [];
  for (const hostile of cases) {
    const [whole, base] = [await guard.classify(hostile.text), await guard.classify(hostile.base)];
    if (whole.label !== base.label) changed.push(`${hostile.name}: ${whole.label} vs ${base.label}`);
  }
  expect(changed).toEqual([]);
});
