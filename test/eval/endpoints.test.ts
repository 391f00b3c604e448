/**
 * `lingoguard eval --endpoint A --endpoint B --concurrency 8` against two local stand-ins of an
 * inference server (test/remote/stand-in.ts: vLLM's `/v1/completions`, computing with a real
 * model, here the keyword fixture): every item once in the predictions, never more than 8 calls
 * in flight, both servers used, an interruption with calls in flight resumed without loss or
 * duplicates, the same verdicts as the model in process, throughput printed, and a failing
 * server's items as typed `unknown` verdicts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../../src/cli/eval.js';
import { itemKey } from '../../src/eval/data.js';
import { parsePredictions, type Prediction } from '../../src/eval/run.js';
import type { Guard, GuardOptions } from '../../src/guard.js';
import { createGuard } from '../../src/node.js';
import { startStandIn, type StandIn } from '../remote/stand-in.js';

// The keyword fixture with a reasoning trace: a real model with a ~500-token vocabulary, so the
// stand-ins' forward passes are cheap and the file stays short (the twins' 128k-150k vocabularies
// cost ~1 s an item there; test/remote/ checks each twin's verdicts remotely).
const MODEL = 'fixture-consistentguard';
const SAMPLE = 'test/fixtures/eval';
const LIMIT = 3;
const ITEMS = 6 * LIMIT;

const tmp = () => mkdtempSync(join(tmpdir(), 'lingoguard-endpoints-'));
const lines = (dir: string) => readFileSync(join(dir, 'predictions.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
const predictionsIn = (dir: string): Prediction[] => parsePredictions(readFileSync(join(dir, 'predictions.jsonl'), 'utf8')).predictions;
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { output: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out: () => out.join(''), err: () => err.join('') };
}

/** Opens the guards the CLI asks for, wrapped to count the calls in flight over all of them. */
function countingOpener() {
  const flight = { now: 0, max: 0, urls: [] as string[] };
  const open = async (options: GuardOptions): Promise<Guard> => {
    if (options.endpoint) flight.urls.push(options.endpoint.url);
    const guard = await createGuard(options);
    return {
      get info() {
        return guard.info;
      },
      classify: async (input, call) => {
        flight.max = Math.max(flight.max, ++flight.now);
        try {
          return await guard.classify(input, call);
        } finally {
          flight.now--;
        }
      },
      explain: (input, call) => guard.explain(input, call),
      stream: (input, call) => guard.stream(input, call),
      watch: (input, call) => guard.watch(input, call),
      dispose: () => guard.dispose(),
    };
  };
  return { flight, open };
}

describe(`lingoguard eval on two stand-in servers of ${MODEL}`, () => {
  let a: StandIn;
  let b: StandIn;
  beforeAll(async () => {
    [a, b] = await Promise.all([startStandIn({ model: MODEL }), startStandIn({ model: MODEL })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });
  const args = (out: string) => ['--model', MODEL, '--data', SAMPLE, '--out', out, '--limit', String(LIMIT)];
  const pool = () => ['--endpoint', a.url, '--endpoint', b.url, '--concurrency', '8'];
  const completions = (server: StandIn) => server.requests.filter((r) => r.path.endsWith('/completions')).length;

  it('every item once over both servers, an interruption resumed without loss or duplicates, the in-process verdicts, throughput', async () => {
    const here = tmp();
    const inProcess = capture();
    expect(await evalCommand(args(here), inProcess.output), inProcess.err()).toBe(0);

    const out = tmp();
    const { flight, open } = countingOpener();
    const stop = new AbortController();
    let inFlightAtAbort = 0;
    const first = capture();
    const code = await evalCommand([...args(out), ...pool()], first.output, {
      signal: stop.signal,
      createGuard: open,
      onProgress: (p) => {
        if (p.done === 6) {
          inFlightAtAbort = p.inFlight;
          stop.abort();
        }
      },
    });
    expect(code, first.err()).toBe(130);
    expect(flight.urls).toEqual([a.url, b.url]);
    // Calls were in flight when it stopped: they are lost to this run only, judged on the rerun.
    expect(inFlightAtAbort).toBeGreaterThan(0);
    const judged = Number(/interrupted: judged (\d+), skipped 0/.exec(first.err())?.[1]);
    expect(judged).toBeGreaterThanOrEqual(6);
    expect(judged).toBeLessThan(ITEMS);
    expect(lines(out)).toHaveLength(judged);
    const kept = readFileSync(join(out, 'predictions.jsonl'), 'utf8');
    expect(first.err()).toMatch(/throughput: [\d.]+ items\/s, [\d.]+ generated tokens\/s/);

    const second = capture();
    expect(await evalCommand([...args(out), ...pool()], second.output, { createGuard: open }), second.err()).toBe(0);
    expect(second.err()).toContain(`judged ${ITEMS - judged}, skipped ${judged}`);
    expect(second.err()).toMatch(/throughput: [\d.]+ items\/s, [\d.]+ generated tokens\/s \(\d+ tokens in [\d.]+ s; items per endpoint: /);
    expect(flight.max).toBeLessThanOrEqual(8);
    expect(flight.max).toBeGreaterThan(2);
    expect(completions(a)).toBeGreaterThan(0);
    expect(completions(b)).toBeGreaterThan(0);

    // What the first run wrote is kept as it was; the rerun only appended.
    expect(readFileSync(join(out, 'predictions.jsonl'), 'utf8').startsWith(kept)).toBe(true);
    const keys = predictionsIn(out).map(itemKey);
    expect(lines(out)).toHaveLength(ITEMS);
    expect(new Set(keys).size).toBe(ITEMS);
    expect(predictionsIn(out).every((p) => p.model === MODEL && p.problem === undefined)).toBe(true);
    // The servers compute what the model computes here: the same verdicts, item by item. (Not
    // the same table: its "tokens fed" differ, since the in-process guard caches the instruction.)
    const local = new Map(predictionsIn(here).map((p) => [itemKey(p), p]));
    for (const p of predictionsIn(out)) {
      const mine = local.get(itemKey(p));
      expect([p.label, p.reasoning, p.timings.generatedTokens], itemKey(p)).toEqual([mine?.label, mine?.reasoning, mine?.timings.generatedTokens]);
      expect(Math.abs((p.score ?? Number.NaN) - (mine?.score ?? Number.NaN)), itemKey(p)).toBeLessThan(1e-3);
    }
    expect(new Set(predictionsIn(out).map((p) => p.label))).toEqual(new Set(['harmful', 'unharmful']));
  }, 60_000);

  it("a server's failed calls are those items' unknown verdicts with the typed error, each written once", async () => {
    const out = tmp();
    b.inject({ kind: 'status', status: 500, message: 'CUDA out of memory' }, 3);
    const run = capture();
    expect(await evalCommand([...args(out), ...pool()], run.output), run.err()).toBe(0);
    const predictions = predictionsIn(out);
    expect(lines(out)).toHaveLength(ITEMS);
    expect(new Set(predictions.map(itemKey)).size).toBe(ITEMS);
    const failed = predictions.filter((p) => p.problem !== undefined);
    expect(failed).toHaveLength(3);
    for (const p of failed) {
      expect(p.label).toBe('unknown');
      // The typed error's code and message, as for any failed call.
      expect(p.problem).toMatch(/^[a-z-]+: .*500.*CUDA out of memory/);
    }
    // The rest were judged by the model on either server.
    expect(predictions.filter((p) => p.problem === undefined && p.label !== 'unknown')).toHaveLength(ITEMS - 3);
  }, 60_000);

  it.each(['llama.cpp', 'tgi'] as const)('--engine %s: the items judged on that engine\'s server give the in-process verdicts', async (engine) => {
    const server = await startStandIn({ model: MODEL, engine });
    try {
      const here = tmp();
      const there = tmp();
      const inProcess = capture();
      expect(await evalCommand(args(here), inProcess.output), inProcess.err()).toBe(0);
      const run = capture();
      expect(await evalCommand([...args(there), '--endpoint', server.url, '--engine', engine, '--concurrency', '4'], run.output), run.err()).toBe(0);
      // The engine's own route was used (TGI's /generate_stream, llama-server's /v1/completions).
      expect(server.requests.some((r) => r.path.endsWith(engine === 'tgi' ? '/generate_stream' : '/v1/completions'))).toBe(true);
      const local = new Map(predictionsIn(here).map((p) => [itemKey(p), p]));
      expect(predictionsIn(there)).toHaveLength(ITEMS);
      for (const p of predictionsIn(there)) {
        const mine = local.get(itemKey(p));
        expect([p.label, p.reasoning, p.problem], itemKey(p)).toEqual([mine?.label, mine?.reasoning, undefined]);
      }
    } finally {
      await server.close();
    }
  }, 60_000);

  it('--engine takes vllm, llama.cpp or tgi, and only with --endpoint', async () => {
    await expect(evalCommand([...args(tmp()), '--endpoint', a.url, '--engine', 'ollama'], capture().output)).rejects.toThrow('--engine is vllm, llama.cpp, tgi, not "ollama"');
    await expect(evalCommand([...args(tmp()), '--engine', 'tgi'], capture().output)).rejects.toThrow('--engine says what the --endpoint servers run');
  });
});
