/**
 * The evaluation loop over a pool of guards (`lingoguard eval --endpoint ... --concurrency N`):
 * every item judged and handed on exactly once, never more calls in flight than asked, a free
 * guard taking the next item, an abort with calls in flight losing nothing already judged and
 * a rerun judging only the rest, a failing guard's items as `unknown` verdicts, throughput.
 * On fake guards with staggered delays (fast, and out of order on purpose), then through the
 * CLI on two in-process fixture guards standing in for two servers.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { evalCommand, parseEvalArgs } from '../../src/cli/eval.js';
import { main } from '../../src/cli/main.js';
import { itemKey, type BenchmarkItem } from '../../src/eval/data.js';
import { parsePredictions, runEval, type Classifier, type EvalProgress, type Prediction } from '../../src/eval/run.js';
import { AbortedError, BackendUnavailableError, isGuardError } from '../../src/errors.js';
import { createGuard } from '../../src/node.js';
import type { Guard, GuardOptions } from '../../src/guard.js';
import type { ModerationInput, Verdict } from '../../src/types.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const ITEMS: BenchmarkItem[] = Array.from({ length: 40 }, (_, i) => ({
  id: `item-${i}`,
  dataset: 'pool',
  lang: ['en', 'fr'][i % 2]!,
  text: i % 3 === 0 ? `how to kill ${i}` : `hello ${i}`,
  gold: i % 3 === 0 ? 'harmful' : 'unharmful',
}));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls in flight over a set of fake guards, and the most ever seen at once. */
class InFlight {
  now = 0;
  max = 0;
  enter(): void {
    this.now++;
    this.max = Math.max(this.max, this.now);
  }
  leave(): void {
    this.now--;
  }
}

/**
 * A guard that answers after a delay that varies with the item (so calls finish out of order),
 * honours its signal as a real guard does, and counts its calls.
 */
function fakeGuard(
  flight: InFlight,
  options: { delayMs?: (text: string) => number; fail?: boolean } = {},
): Classifier & { calls: string[]; own: InFlight } {
  const calls: string[] = [];
  const own = new InFlight();
  return {
    calls,
    own,
    async classify(input: string | ModerationInput, call?: { signal?: AbortSignal }): Promise<Verdict> {
      const text = typeof input === 'string' ? input : input.prompt;
      calls.push(text);
      flight.enter();
      own.enter();
      try {
        const delay = options.delayMs?.(text) ?? 2 + (Number(/\d+/.exec(text)?.[0] ?? 0) % 5) * 3;
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            clearTimeout(timer);
            reject(new AbortedError());
          };
          const timer = setTimeout(() => {
            call?.signal?.removeEventListener('abort', onAbort);
            resolve();
          }, delay);
          call?.signal?.addEventListener('abort', onAbort, { once: true });
        });
        if (options.fail) throw new BackendUnavailableError('connect ECONNREFUSED 127.0.0.1:9', { details: { url: 'http://127.0.0.1:9/v1' } });
        const harmful = text.includes('kill');
        return {
          label: harmful ? 'harmful' : 'unharmful',
          score: harmful ? 0.9 : 0.1,
          categories: [],
          reasoning: 'a short trace',
          language: { code: 'en', script: 'Latn', confidence: 1 },
          model: 'fake',
          timings: { totalMs: delay, generatedTokens: 10, reasoningTokens: 3 },
          raw: 'a short trace</think>',
          path: 'reasoned',
        } as Verdict;
      } finally {
        flight.leave();
        own.leave();
      }
    },
  };
}

const keysOf = (predictions: readonly Prediction[]) => predictions.map(itemKey);

describe('runEval over a pool of guards', () => {
  it('judges every item exactly once, spread over the guards, never above the concurrency', async () => {
    const flight = new InFlight();
    const guards = [fakeGuard(flight), fakeGuard(flight), fakeGuard(flight)];
    const handed: Prediction[] = [];
    const progress: EvalProgress[] = [];
    const result = await runEval({
      guard: guards,
      concurrency: 5,
      model: 'fake',
      items: ITEMS,
      onPrediction: (p) => {
        handed.push(p);
      },
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ judged: 40, skipped: 0, interrupted: false });
    expect(new Set(keysOf(handed))).toEqual(new Set(ITEMS.map(itemKey)));
    expect(handed).toHaveLength(40);
    // Each item reached exactly one guard once.
    expect(guards.flatMap((g) => g.calls).sort()).toEqual(ITEMS.map((i) => i.text).sort());
    expect(flight.max).toBe(5);
    expect(Math.max(...progress.map((p) => p.inFlight))).toBeLessThanOrEqual(5);
    // Calls finished out of order: the hand-on order is not the item order.
    expect(keysOf(handed)).not.toEqual(ITEMS.map(itemKey));
    // The least busy guard takes the next item: 5 calls over 3 guards are never more than 2 on
    // one, and every guard takes its share.
    expect(guards.map((g) => g.own.max)).toEqual([2, 2, 1]);
    expect(result.throughput.perGuard.reduce((a, b) => a + b, 0)).toBe(40);
    expect(result.throughput.perGuard).toEqual(guards.map((g) => g.calls.length));
    for (const n of result.throughput.perGuard) expect(n).toBeGreaterThanOrEqual(4);
    const { throughput } = result;
    expect(throughput.generatedTokens).toBe(400);
    expect(throughput.itemsPerSecond).toBeCloseTo((40 * 1000) / throughput.elapsedMs, 6);
    expect(throughput.tokensPerSecond).toBeCloseTo((400 * 1000) / throughput.elapsedMs, 6);
    expect(progress.at(-1)).toMatchObject({ done: 40, generatedTokens: 400, inFlight: 0 });
  });

  it('an abort with calls in flight keeps every judged item; the rerun judges only the rest', async () => {
    const flight = new InFlight();
    const stop = new AbortController();
    const first: Prediction[] = [];
    let inFlightAtAbort = 0;
    const result = await runEval({
      guard: [fakeGuard(flight), fakeGuard(flight)],
      concurrency: 6,
      model: 'fake',
      items: ITEMS,
      signal: stop.signal,
      onPrediction: (p) => {
        first.push(p);
      },
      onProgress: (p) => {
        if (p.done === 12) {
          inFlightAtAbort = p.inFlight;
          stop.abort();
        }
      },
    });
    expect(inFlightAtAbort).toBeGreaterThan(0);
    expect(result.interrupted).toBe(true);
    expect(result.judged).toBe(first.length);
    // Nothing is handed on after runEval resolved: every call had settled.
    expect(flight.now).toBe(0);
    const handedAtReturn = first.length;
    await sleep(30);
    expect(first).toHaveLength(handedAtReturn);
    expect(new Set(keysOf(first)).size).toBe(first.length);

    const second: Prediction[] = [];
    const rest = await runEval({
      guard: [fakeGuard(flight), fakeGuard(flight)],
      concurrency: 6,
      model: 'fake',
      items: ITEMS,
      done: new Set(keysOf(first)),
      onPrediction: (p) => {
        second.push(p);
      },
    });
    expect(rest).toMatchObject({ judged: 40 - first.length, skipped: first.length, interrupted: false });
    const all = [...keysOf(first), ...keysOf(second)];
    expect(all).toHaveLength(40);
    expect(new Set(all)).toEqual(new Set(ITEMS.map(itemKey)));
  });

  it("a failing guard's items are unknown verdicts with its typed error, each written once", async () => {
    const flight = new InFlight();
    const dead = fakeGuard(flight, { fail: true, delayMs: () => 1 });
    const handed: Prediction[] = [];
    const result = await runEval({
      guard: [fakeGuard(flight), dead],
      concurrency: 4,
      model: 'fake',
      items: ITEMS,
      onPrediction: (p) => {
        handed.push(p);
      },
    });
    expect(result).toMatchObject({ judged: 40, interrupted: false });
    expect(new Set(keysOf(handed)).size).toBe(40);
    const failed = handed.filter((p) => p.label === 'unknown');
    expect(failed.length).toBe(dead.calls.length);
    expect(failed.length).toBeGreaterThan(0);
    for (const p of failed) {
      expect(p.problem).toBe('backend-unavailable: connect ECONNREFUSED 127.0.0.1:9');
      expect(p.raw).toBe('');
    }
    // Failed calls generated nothing: only the live guard's tokens count.
    expect(result.throughput.generatedTokens).toBe(10 * (40 - failed.length));
  });

  it('a hand-on that throws stops the run and rejects with its error, after every call settled', async () => {
    const flight = new InFlight();
    let handed = 0;
    const full = new Error('ENOSPC: no space left on device');
    const run = runEval({
      guard: [fakeGuard(flight), fakeGuard(flight)],
      concurrency: 4,
      model: 'fake',
      items: ITEMS,
      onPrediction: () => {
        if (++handed === 5) throw full;
      },
    });
    await expect(run).rejects.toBe(full);
    expect(flight.now).toBe(0);
    await sleep(30);
    expect(handed).toBe(5);
  });

  it('16 calls in flight stack no abort listeners on the caller\'s signal (no Node warning)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const flight = new InFlight();
    try {
      const result = await runEval({
        guard: [fakeGuard(flight), fakeGuard(flight)],
        concurrency: 16,
        model: 'fake',
        items: ITEMS,
        signal: new AbortController().signal,
        onPrediction: () => undefined,
      });
      expect(result.judged).toBe(40);
      await sleep(10);
    } finally {
      process.off('warning', onWarning);
    }
    expect(flight.max).toBe(16);
    expect(warnings).toEqual([]);
  });

  it('with one guard and no concurrency, judges in item order as before', async () => {
    const handed: Prediction[] = [];
    await runEval({ guard: fakeGuard(new InFlight()), model: 'fake', items: ITEMS, onPrediction: (p) => void handed.push(p) });
    expect(keysOf(handed)).toEqual(ITEMS.map(itemKey));
  });

  it('refuses no guards and a concurrency that is not a positive integer, as typed errors', async () => {
    const base = { model: 'fake', items: ITEMS, onPrediction: () => undefined };
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      const error = await runEval({ ...base, guard: fakeGuard(new InFlight()), concurrency }).catch((e: unknown) => e);
      expect(isGuardError(error, 'invalid-input'), String(concurrency)).toBe(true);
    }
    expect(isGuardError(await runEval({ ...base, guard: [] }).catch((e: unknown) => e), 'invalid-input')).toBe(true);
  });
});

describe('lingoguard eval --endpoint --concurrency: the options', () => {
  const base = ['--model', 'fixture-consistentguard', '--data', 'test/fixtures/eval'];

  it('reads repeated --endpoint URLs and --concurrency', () => {
    const options = parseEvalArgs([...base, '--endpoint', 'http://gpu-a:8000/v1', '--endpoint', 'https://gpu-b/v1', '--concurrency', '8']);
    expect(options).toMatchObject({ endpoints: ['http://gpu-a:8000/v1', 'https://gpu-b/v1'], concurrency: 8 });
    expect(parseEvalArgs(base)).toMatchObject({ endpoints: [] });
    expect(parseEvalArgs(base)?.concurrency).toBeUndefined();
  });

  it.each([
    [['--concurrency', '0'], '--concurrency takes a whole number of at least 1, not "0"'],
    [['--concurrency', '2.5'], '--concurrency takes a whole number of at least 1, not "2.5"'],
    [['--concurrency', 'many'], '--concurrency takes a whole number of at least 1, not "many"'],
    [['--endpoint', 'gpu-box:8000'], '--endpoint takes an http:// or https:// URL such as http://gpu-box:8000/v1, not "gpu-box:8000"'],
    [['--endpoint', 'ftp://gpu-box/v1'], '--endpoint takes an http:// or https:// URL'],
    [['--endpoint', 'not a url'], '--endpoint takes an http:// or https:// URL'],
    [['--endpoint', 'http://me:secret@gpu-box/v1'], '--endpoint URLs carry no credentials: put the API key in LINGOGUARD_API_KEY'],
  ])('%j is a usage error (exit 2)', async (extra, message) => {
    expect(() => parseEvalArgs([...base, ...extra])).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringContaining(message) }));
    const err: string[] = [];
    expect(await main(['eval', ...base, ...extra], { out: () => undefined, err: (t) => err.push(t) })).toBe(2);
    expect(err.join('')).toContain('(see lingoguard eval --help)');
  });

  it('lists both options in --help', async () => {
    const out: string[] = [];
    expect(await main(['eval', '--help'], { out: (t) => out.push(t), err: () => undefined })).toBe(0);
    expect(out.join('')).toMatch(/--endpoint <URL>[\s\S]*\(repeatable\)/);
    expect(out.join('')).toContain('--concurrency <N>');
  });
});

describe('lingoguard eval over two guards (in-process, standing in for two servers)', () => {
  beforeAll(() => ensureFixtures(), 120_000);
  const SLICE = 'test/fixtures/eval';
  const tmp = () => mkdtempSync(join(tmpdir(), 'lingoguard-pool-'));
  const predictionsIn = (dir: string) => readFileSync(join(dir, 'predictions.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { output: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out: () => out.join(''), err: () => err.join('') };
  };

  it('spreads the items, resumes an interruption without loss or duplicates, prints throughput, same table as one guard', async () => {
    const asked: GuardOptions[] = [];
    // Each "endpoint" becomes an in-process guard of the same model, so the pool logic runs for
    // real; one per URL, loaded once for both runs (the CLI's dispose is put off to the end).
    const loaded = new Map<string, Promise<Guard>>();
    const open = async (options: GuardOptions): Promise<Guard> => {
      asked.push(options);
      const url = options.endpoint?.url ?? '';
      if (!loaded.has(url)) loaded.set(url, createGuard({ model: options.model ?? '', warmUp: false }));
      const guard = await loaded.get(url)!;
      return {
        info: guard.info,
        classify: (input, call) => guard.classify(input, call),
        explain: (input, call) => guard.explain(input, call),
        stream: (input, call) => guard.stream(input, call),
        watch: (input, call) => guard.watch(input, call),
        dispose: async () => undefined,
      };
    };
    onTestFinished(async () => {
      for (const guard of loaded.values()) await (await guard).dispose();
    });
    const args = (out: string) => ['--model', 'fixture-consistentguard', '--data', SLICE, '--limit', '3', '--out', out];
    const pool = ['--endpoint', 'http://gpu-a:8000/v1', '--endpoint', 'http://gpu-b:8000/v1', '--concurrency', '4'];

    const whole = tmp();
    expect(await main(['eval', ...args(whole)], capture().output)).toBe(0);

    const out = tmp();
    const stop = new AbortController();
    const first = capture();
    const code = await evalCommand([...args(out), ...pool], first.output, {
      signal: stop.signal,
      createGuard: open,
      onProgress: (p) => {
        if (p.done === 7) stop.abort();
      },
    });
    expect(code, first.err()).toBe(130);
    expect(asked.map((o) => o.endpoint?.url)).toEqual(['http://gpu-a:8000/v1', 'http://gpu-b:8000/v1']);
    const judged = Number(/interrupted: judged (\d+), skipped 0/.exec(first.err())?.[1]);
    expect(judged).toBeGreaterThanOrEqual(7);
    expect(predictionsIn(out)).toHaveLength(judged);
    const kept = readFileSync(join(out, 'predictions.jsonl'), 'utf8');

    const second = capture();
    expect(await evalCommand([...args(out), ...pool], second.output, { createGuard: open }), second.err()).toBe(0);
    expect(second.err()).toContain(`judged ${18 - judged}, skipped ${judged}`);
    expect(second.err()).toMatch(/throughput: [\d.]+ items\/s, [\d.]+ generated tokens\/s \(\d+ tokens in [\d.]+ s; items per endpoint: /);
    const [, a, b] = /items per endpoint: http:\/\/gpu-a:8000\/v1 (\d+), http:\/\/gpu-b:8000\/v1 (\d+)\)/.exec(second.err()) ?? [];
    expect(Number(a) + Number(b)).toBe(18 - judged);
    expect(Number(a)).toBeGreaterThan(0);
    expect(Number(b)).toBeGreaterThan(0);

    // What the first run wrote is kept as it was; the rerun only appended.
    expect(readFileSync(join(out, 'predictions.jsonl'), 'utf8').startsWith(kept)).toBe(true);
    const keys = parsePredictions(readFileSync(join(out, 'predictions.jsonl'), 'utf8')).predictions.map(itemKey);
    expect(predictionsIn(out)).toHaveLength(18);
    expect(new Set(keys).size).toBe(18);
    // The report reads predictions in item order, whatever order they finished in.
    for (const file of ['table.md', 'cao-pairs.jsonl']) {
      expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(join(whole, file), 'utf8'));
    }
  }, 60_000);
});
