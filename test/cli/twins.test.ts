/**
 * The built executable (`node bin/lingoguard.js`, needs `npm run build`) on every twin of a
 * real export: `classify --json [--mode fast] TEXT` answers as the twin was designed to, with
 * a score in both modes, fast mode in one pass; a JSONL batch in the six languages; and
 * `prompt` shows the tokens that `classify` fed the model.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { EXAMPLES } from '../../demo/examples.js';
import type { PromptJson } from '../../src/cli/prompt.js';
import type { Verdict } from '../../src/types.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';
import { TWINS } from './twin-cases.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HARMFUL = EXAMPLES.find((e) => e.title === 'French · harmful')?.text ?? '';

type JsonVerdict = Verdict & { device: string; dtype: string };

/** Runs the executable; resolves with its exit code and output (never rejects on a non-zero exit). */
function bin(args: string[], input = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bin/lingoguard.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }));
    child.stdin?.end(input);
  });
}

async function json<T>(args: string[], input?: string): Promise<T> {
  const { code, out, err } = await bin(args, input);
  expect(code, err).toBe(0);
  return JSON.parse(out) as T;
}

beforeAll(() => {
  if (!existsSync(`${ROOT}dist/src/cli/main.js`)) throw new Error('dist/ is missing: run `npm run build` first.');
  ensureFixtures();
}, 180_000);

describe.each(TWINS)('$id', (twin) => {
  const model = ['--model', twin.id];

  test('classify --json --mode full|fast TEXT: the designed verdict, a score in both modes, fast mode in one pass', async () => {
    const [full, fast, prompt] = await Promise.all([
      json<JsonVerdict>(['classify', ...model, '--json', '--mode', 'full', HARMFUL]),
      json<JsonVerdict>(['classify', ...model, '--json', '--mode', 'fast', HARMFUL]),
      json<PromptJson>(['prompt', ...model, '--json', HARMFUL]),
    ]);
    expect([full.model, full.device, full.dtype]).toEqual([twin.id, 'cpu', 'q4']);
    expect(full).toMatchObject({ label: 'harmful', blocked: true });
    expect(full.categories.map((c) => c.id)).toEqual(twin.categories);
    expect(twin.answers.harmful.startsWith(full.raw)).toBe(true);
    expect(full.reasoning !== '').toBe(twin.reasoning);

    expect(fast).toMatchObject({ label: 'harmful', reasoning: '', reasoningCut: true, path: 'fast' });
    expect(full.path).toBe(twin.reasoning ? 'reasoned' : 'fast');
    expect(full.score).toBeGreaterThan(0.5);
    expect(fast.score).toBeGreaterThan(0.5);
    // Read where the verdict word is, in both modes: the same probability.
    expect(Math.abs((fast.score ?? Number.NaN) - (full.score ?? Number.NaN))).toBeLessThan(1e-3);
    // One pass over the uncached prompt and the opening, plus the verdict words' few tokens
    // (exact counts: test/runtime/decoder.test.ts); no reasoning, nothing generated after.
    expect(fast.timings.reasoningTokens).toBe(0);
    expect(fast.timings.generatedTokens).toBeLessThanOrEqual(4);
    expect(fast.timings.forwardPasses).toBeLessThanOrEqual(5);
    expect(fast.timings.forwardPasses).toBeLessThan(full.timings.forwardPasses ?? 0);
    expect((fast.timings.forwardTokens ?? 0) - ((fast.timings.promptTokens ?? 0) - (fast.timings.cachedTokens ?? 0))).toBeLessThanOrEqual(20);

    // `prompt` shows exactly what `classify` fed the model.
    expect(prompt.ids).toHaveLength(full.timings.promptTokens ?? -1);
    expect(prompt.text).toContain(HARMFUL);
  });

  test('classify --batch --mode fast: the six languages as designed, each with a score', async () => {
    const input = EXAMPLES.map((e) => JSON.stringify({ id: e.title, prompt: e.text })).join('\n');
    const { code, out, err } = await bin(['classify', ...model, '--batch', '--mode', 'fast'], input);
    expect(code, err).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; verdict: JsonVerdict });
    expect(lines.map((l) => [l.id, l.verdict.label, l.verdict.blocked])).toEqual(
      EXAMPLES.map((e) => (e.title.endsWith('harmful') ? [e.title, 'harmful', true] : [e.title, 'unharmful', false])),
    );
    for (const { verdict } of lines) expect((verdict.score ?? Number.NaN) > 0.5).toBe(verdict.label === 'harmful');
    expect(new Set(lines.map((l) => l.verdict.language.code))).toEqual(new Set(['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi']));
  });
});
