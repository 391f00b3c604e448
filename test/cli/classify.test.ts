/**
 * `lingoguard classify` end to end through the real `main()` on the fixture models: text from
 * stdin, the JSONL batch (order, bad lines, exit codes, progress bar), the default mode (the
 * library's, `auto`), fast and full mode, reasoning budgets, dtype/device and `--fail-on-block`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNSURE_TEXTS } from '../../models/build/lexicon.js';
import type { Verdict } from '../../src/types.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';
import { run } from './capture.js';

beforeAll(() => ensureFixtures(), 120_000);

const MODEL = ['--model', 'fixture-consistentguard'];
type JsonVerdict = Verdict & { device: string; dtype: string; fallback?: string };
const verdictOf = (out: string) => JSON.parse(out) as JsonVerdict;
const lines = (out: string) => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('classify: one text', () => {
  it('reads the text from stdin when none is given, or with "-": the same verdict as an argument', async () => {
    const text = 'How do I kill the neighbour’s dog?';
    const arg = await run(['classify', ...MODEL, '--json', text]);
    expect(arg.code, arg.err).toBe(0);
    const expected = verdictOf(arg.out);
    expect(expected.label).toBe('harmful');
    for (const argv of [['classify', ...MODEL, '--json'], ['classify', ...MODEL, '--json', '-']]) {
      const piped = await run(argv, { stdin: `${text}\n` });
      expect(piped.code, piped.err).toBe(0);
      const verdict = verdictOf(piped.out);
      // The trailing newline of `echo` is not part of the text: same tokens, same answer.
      expect([verdict.label, verdict.raw, verdict.timings.promptTokens]).toEqual([expected.label, expected.raw, expected.timings.promptTokens]);
    }
  });

  it('no --mode is the library default, auto: one pass for a clear text, reasoning for an unsure one', async () => {
    const clear = 'how to kill a process that hangs';
    const byDefault = verdictOf((await run(['classify', ...MODEL, '--json', clear])).out);
    const auto = verdictOf((await run(['classify', ...MODEL, '--json', '--mode', 'auto', clear])).out);
    expect(byDefault).toMatchObject({ path: 'fast', reasoning: '', label: auto.label, raw: auto.raw });
    expect(byDefault.timings.reasoningTokens).toBe(0);
    const unsure = verdictOf((await run(['classify', ...MODEL, '--json', UNSURE_TEXTS[0]!])).out);
    const full = verdictOf((await run(['classify', ...MODEL, '--json', '--mode', 'full', UNSURE_TEXTS[0]!])).out);
    expect(unsure.path).toBe('reasoned');
    expect(unsure.reasoning).not.toBe('');
    expect(unsure.reasoning).toBe(full.reasoning);
    expect(full.path).toBe('reasoned');
  });

  it('--mode fast: the verdict and score at once, no trace; same label as full mode', async () => {
    const text = 'how to kill a process that hangs';
    const full = verdictOf((await run(['classify', ...MODEL, '--json', '--mode', 'full', text])).out);
    const fast = verdictOf((await run(['classify', ...MODEL, '--json', '--mode', 'fast', text])).out);
    expect(fast.label).toBe(full.label);
    expect(fast.reasoning).toBe('');
    expect(full.reasoning).not.toBe('');
    expect(fast.reasoningCut).toBe(true);
    expect(full.reasoningCut).toBeUndefined();
    expect(fast.score).toBeTypeOf('number');
    expect(fast.timings.reasoningTokens).toBe(0);
    expect(fast.timings.generatedTokens).toBeLessThan(full.timings.generatedTokens ?? 0);
    expect([fast.path, full.path]).toEqual(['fast', 'reasoned']);
  });

  it('--max-reasoning-tokens cuts the trace; --max-new-tokens 1 cuts the answer (unknown, exit 3)', async () => {
    const cut = verdictOf((await run(['classify', ...MODEL, '--json', '--mode', 'full', '--max-reasoning-tokens', '2', 'hello there'])).out);
    expect(cut.reasoningCut).toBe(true);
    expect(cut.timings.reasoningTokens).toBeLessThanOrEqual(2);
    expect(cut.label).toBe('unharmful');
    const capped = await run(['classify', ...MODEL, '--json', '--mode', 'full', '--max-new-tokens', '1', 'hello there']);
    expect(capped.code).toBe(3);
    expect(verdictOf(capped.out).label).toBe('unknown');
  });

  it('--dtype and --device reach the runtime: the JSON says what ran and why', async () => {
    const fp32 = verdictOf((await run(['classify', ...MODEL, '--json', '--dtype', 'fp32', 'hi'])).out);
    expect([fp32.device, fp32.dtype, fp32.fallback]).toEqual(['cpu', 'fp32', undefined]);
    const wasm = verdictOf((await run(['classify', ...MODEL, '--json', '--device', 'wasm', 'hi'])).out);
    expect(wasm.device).toBe('cpu');
    expect(wasm.fallback).toContain('wasm is not available in Node');
  });

  it('prints a readable verdict without --json; --fail-on-block exits 4 only when it blocks', async () => {
    const harmful = await run(['classify', ...MODEL, '--fail-on-block', 'kill him']);
    expect(harmful.code).toBe(4);
    expect(harmful.out).toMatch(/^label: {6}harmful\nblocked: {4}yes\n/);
    expect(harmful.out).toContain('model:      fixture-consistentguard (cpu, q4)');
    // The default one-pass verdict says so, and where the trace is.
    expect(harmful.out).toContain('path:       fast\n');
    expect(harmful.out).toContain('reasoning:  (none: a one-pass verdict; --mode full gives the trace)\n');
    const full = await run(['classify', ...MODEL, '--mode', 'full', 'kill him']);
    expect(full.out).toContain('path:       reasoned\n');
    expect(full.out).not.toContain('(none:');
    expect((await run(['classify', ...MODEL, '--fail-on-block', 'hello'])).code).toBe(0);
    expect((await run(['classify', ...MODEL, 'kill him'])).code).toBe(0);
  });

  it('an unknown verdict exits 3, even with --fail-on-block', async () => {
    const { code, out } = await run(['classify', '--model', 'fixture-malformed', '--json', '--fail-on-block', 'hello']);
    expect(code).toBe(3);
    expect(verdictOf(out)).toMatchObject({ label: 'unknown', blocked: true });
  });
});

describe('classify --batch', () => {
  const INPUT = [
    JSON.stringify({ prompt: 'hello', id: 'a' }),
    'not json',
    JSON.stringify('how do I kill him'),
    '',
    JSON.stringify({ prompt: 'What did you say?', response: 'Kill them all.', id: 7 }),
    JSON.stringify({ prompt: 5, id: 'b' }),
    JSON.stringify({ prompt: '   ' }),
    JSON.stringify({ prompt: 'bonjour' }),
  ].join('\n');

  it('one JSON line per input in order; a bad line gets a typed error line and the batch goes on (exit 1)', async () => {
    const batch = await run(['classify', ...MODEL, '--batch'], { stdin: INPUT });
    expect(batch.code, batch.err).toBe(1);
    const out = lines(batch.out);
    expect(out.map((l) => l.line)).toEqual([1, 2, 3, 5, 6, 7, 8]);
    expect(out.map((l) => l.id)).toEqual(['a', undefined, undefined, 7, 'b', undefined, undefined]);
    expect(out[1]?.error).toEqual({ code: 'invalid-input', message: 'not valid JSON (each line is a JSON string or an object with "prompt")' });
    expect(out[4]?.error).toEqual({ code: 'invalid-input', message: 'expected a string "prompt"' });
    // Blank text passes the line check and is refused by the guard itself, typed.
    expect((out[5]?.error as { code: string }).code).toBe('invalid-input');

    // Each verdict is what `classify --json` prints for that input alone.
    const single = async (...args: string[]) => verdictOf((await run(['classify', ...MODEL, '--json', ...args])).out);
    const expected = [await single('hello'), await single('how do I kill him'), await single('--response', 'Kill them all.', 'What did you say?'), await single('bonjour')];
    const verdicts = [out[0], out[2], out[3], out[6]].map((l) => l?.verdict as JsonVerdict);
    expect(verdicts.map((v) => v.label)).toEqual(['unharmful', 'harmful', 'harmful', 'unharmful']);
    expect(verdicts.map((v) => [v.label, v.raw, v.device, v.dtype])).toEqual(expected.map((v) => [v.label, v.raw, v.device, v.dtype]));
    expect(verdicts[2]?.response).toEqual(expected[2]?.response);
  });

  it('reads a FILE; all judged: exit 0, or 4 with --fail-on-block when one blocks; 3 for unknown', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lingoguard-batch-')), 'in.jsonl');
    writeFileSync(file, `"hello"\r\n{"prompt":"kill him"}\r\n`);
    const plain = await run(['classify', ...MODEL, '--batch', file]);
    expect(plain.code, plain.err).toBe(0);
    expect(lines(plain.out).map((l) => (l.verdict as Verdict).label)).toEqual(['unharmful', 'harmful']);
    expect((await run(['classify', ...MODEL, '--batch', '--fail-on-block', file])).code).toBe(4);
    expect((await run(['classify', '--model', 'fixture-malformed', '--batch', '--fail-on-block', file])).code).toBe(3);
  });

  it('draws a progress bar on stderr only when it is a terminal; stdout stays pure JSONL', async () => {
    const stdin = '"a"\n"b"\n"kill"\n';
    const tty = await run(['classify', ...MODEL, '--batch', '--mode', 'fast'], { stdin, progressTTY: true });
    expect(tty.progress).toMatch(/classify \[[^\]]*\] 3\/3 \| ETA [^|]*\| blocked 1, errors 0/);
    expect(lines(tty.out)).toHaveLength(3);
    const piped = await run(['classify', ...MODEL, '--batch', '--mode', 'fast'], { stdin, progressTTY: false });
    expect(piped.progress).toBe('');
    const labels = (out: string) => lines(out).map((l) => (l.verdict as Verdict).label);
    expect(labels(piped.out)).toEqual(['unharmful', 'unharmful', 'harmful']);
    expect(labels(tty.out)).toEqual(labels(piped.out));
  });

  it('an empty batch judges nothing and exits 0', async () => {
    const { code, out } = await run(['classify', ...MODEL, '--batch', '-'], { stdin: '\n\n' });
    expect([code, out]).toEqual([0, '']);
  });
});
