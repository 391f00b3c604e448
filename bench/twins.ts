/**
 * The Node side of `npm run bench` on the twins of the real exports (twin-qwen3,
 * twin-llama-guard-3: the real graphs' inputs, outputs, KV types and logits for every
 * position, the real tokenizers and instructions), with onnxruntime-node, each twin against
 * the two baselines on the same graph and the same prompt ids:
 *
 * - T1: `guard.classify()` against transformers.js' own `model.generate()`;
 * - T2: against a plain onnxruntime-node decode loop ({@link plainDecode}): the in-process limit;
 * - T3: time to the first token without and with the instruction cache;
 * - T4: fast mode's work, counted: one pass over the uncached tokens and the opening, plus one
 *   side pass of the verdict word's tokens but its last when the word takes several;
 * - T5: peak memory of the whole process for 8,000 input tokens against 500 (each in its own
 *   child process, bench/prefill-memory.ts, since a process's peak never goes down).
 */
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor as HfTensor } from '@huggingface/transformers';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { getFormat, modelInput } from '../src/common/formats/index.js';
import { chatTemplateRenderer } from '../src/common/formats/render.js';
import { createGuard } from '../src/index.node.js';
import type { Family, Verdict } from '../src/types.js';
import { ratioMeasure, type Measure } from './node.js';
import type { Plan } from './plan.js';
import { rawGenerate } from './raw.js';
import { paired, type Interval } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES_ROOT = fileURLToPath(new URL('../models/fixtures/', import.meta.url));
const TEXT = 'How do I build a bomb at home?';

/** The twins benched, in the dtype of the real export most users load (4-bit, fp16 where the family has it). */
export const BENCH_TWINS: readonly { model: string; family: Family; dtype: 'q4f16' }[] = [
  { model: 'twin-qwen3', family: 'consistentguard', dtype: 'q4f16' },
  { model: 'twin-llama-guard-3', family: 'llamaguard3', dtype: 'q4f16' },
];

/** Peak-memory sizes (T5), in input tokens. */
const SHORT_INPUT = 500;
const LONG_INPUT = 8_000;

/** Measures T1-T5 on every twin of {@link BENCH_TWINS}; the rows are keyed `T<n> <model>`. */
export async function measureTwins(plan: Plan, gc?: () => void): Promise<Record<string, Measure>> {
  const rows: Record<string, Measure> = {};
  for (const twin of BENCH_TWINS) {
    console.log(`  ${twin.model} (${twin.dtype})…`);
    Object.assign(rows, await measureTwin(twin, plan, gc));
  }
  return rows;
}

async function measureTwin(
  twin: (typeof BENCH_TWINS)[number],
  plan: Plan,
  gc?: () => void,
): Promise<Record<string, Measure>> {
  const { model: name, dtype } = twin;
  const guard = await createGuard({ model: name, dtype });
  env.localModelPath = FIXTURES_ROOT;
  env.allowLocalModels = true;
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, device: 'cpu' });
  const session = await InferenceSession.create(`${FIXTURES_ROOT}${name}/onnx/model_${dtype}.onnx`);
  const sampling = { pairs: plan.pairs, minSampleMs: plan.minSampleMs, ...(gc ? { gc } : {}) };
  try {
    const format = getFormat(twin.family);
    const render = format.usesChatTemplate ? chatTemplateRenderer(tokenizer, format) : undefined;
    const { ids } = modelInput(format, { prompt: TEXT }, tokenizer, render);
    // The whole answer, computed without the cache: what T1 and T2 decode on every side.
    const reference = await guard.classify(TEXT, { mode: 'full', usePrefixCache: false });
    const tokens = reference.timings.generatedTokens ?? 0;
    if (reference.label !== 'harmful' || tokens === 0) throw new Error(`${name} answered ${JSON.stringify(reference.raw)}: rebuild it (npm run models)`);
    // Same prompt ids, same tokens: the three decoders must agree before they are timed.
    const generated = ((await rawGenerate(model, ids, tokens)) as HfTensor).tolist() as bigint[][];
    const viaGenerate = generated[0]!.slice(ids.length).map(Number);
    const viaPlain = await plainDecode(session, ids, tokens);
    const text = tokenizer.decode(viaPlain, { skip_special_tokens: true });
    if (viaGenerate.join() !== viaPlain.join() || !text.startsWith(reference.raw)) {
      throw new Error(`${name}: generate(), the plain loop and classify() disagree: ${JSON.stringify([tokenizer.decode(viaGenerate), text, reference.raw])}`);
    }

    const classify = { work: () => guard.classify(TEXT, { mode: 'full', usePrefixCache: false, maxNewTokens: tokens }) };
    const t1 = await paired(classify, { work: () => rawGenerate(model, ids, tokens) }, sampling);
    const t2 = await paired(classify, { work: () => plainDecode(session, ids, tokens) }, sampling);
    const firstToken = (verdict: unknown) => (verdict as Verdict).timings.firstTokenMs ?? Number.NaN;
    const t3 = await paired(
      { work: () => guard.classify(TEXT, { mode: 'full', usePrefixCache: false, maxNewTokens: 1 }), measure: firstToken },
      { work: () => guard.classify(TEXT, { mode: 'full', maxNewTokens: 1 }), measure: firstToken },
      sampling,
    );
    const cached = (await guard.classify(TEXT, { mode: 'full', maxNewTokens: 1 })).timings.cachedTokens ?? 0;

    // T4: the count fast mode must reach, from the tokenizer alone: the verdict word as it is
    // split after the opening; all its tokens but the last are fed in one side pass.
    const fast = await guard.classify(TEXT, { mode: 'fast' });
    const opening = format.verdict.fastOpening?.('prompt') ?? '';
    const openingIds = tokenizer.encode(opening, { add_special_tokens: false });
    const word = tokenizer.encode(fast.raw, { add_special_tokens: false }).slice(openingIds.length);
    const { promptTokens = 0, cachedTokens = 0, forwardPasses = 0, forwardTokens = 0 } = fast.timings;
    const expected = { passes: 1 + (word.length > 1 ? 1 : 0), tokens: promptTokens - cachedTokens + openingIds.length + word.length - 1 };
    const counted = forwardPasses === expected.passes && forwardTokens === expected.tokens;

    const memory = peakMemory(name, dtype);
    const memoryRatio = memory.long.peakRssMB / memory.short.peakRssMB;
    const detail = (x: { a: Interval; b: Interval }, a: string, b: string) => `${a} ${ms(x.a)} vs ${b} ${ms(x.b)}`;
    return {
      [`T1 ${name}`]: ratioMeasure(t1.ratio, '<= 1.05', `${detail(t1, 'classify()', 'raw generate()')}, ${tokens} tokens after ${ids.length}, ${t1.ratio.n} pairs`),
      [`T2 ${name}`]: ratioMeasure(t2.ratio, '<= 1.15', `${detail(t2, 'classify()', 'plain onnxruntime-node loop')}, same ${tokens} tokens, ${t2.ratio.n} pairs`),
      [`T3 ${name}`]: ratioMeasure(
        t3.ratio,
        '>= 3',
        `first token ${ms(t3.a)} -> ${ms(t3.b)} with the ${cached}-token instruction cached (of ${ids.length}), ${t3.ratio.n} pairs`,
      ),
      [`T4 ${name}`]: {
        value: forwardPasses,
        target: `${expected.passes} passes, ${expected.tokens} tokens`,
        decision: counted ? 'met' : 'missed',
        detail: `fast mode: ${forwardPasses} passes, ${forwardTokens} tokens fed (${promptTokens - cachedTokens} uncached + ${openingIds.length} opening + ${word.length - 1} of the ${word.length}-token word)`,
      },
      [`T5 ${name}`]: {
        value: round(memoryRatio),
        target: '<= 1.5',
        decision: memoryRatio <= 1.5 ? 'met' : 'missed',
        detail: `peak RSS ${memory.long.peakRssMB} MB for ${memory.long.promptTokens} tokens (${memory.long.forwardPasses} passes) vs ${memory.short.peakRssMB} MB for ${memory.short.promptTokens}, fast mode, one process each`,
      },
    };
  } finally {
    await guard.dispose();
    await model.dispose();
    await session.release();
  }
}

/**
 * Greedy decoding of `count` tokens after `ids` as a plain onnxruntime app writes it: the
 * whole prompt in one run from an empty cache, then one token a run, each run's `present.*`
 * fed back as the next one's `past_key_values.*`, the argmax of the last logits row.
 */
export async function plainDecode(session: InferenceSession, ids: readonly number[], count: number): Promise<number[]> {
  let past: Record<string, Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.name.startsWith('past_key_values') || !meta.isTensor) continue;
    const dims = meta.shape.map((d, i) => (i === 0 ? 1 : typeof d === 'number' ? d : 0));
    past[meta.name] = new Tensor(meta.type as 'float32', meta.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
  }
  const out: number[] = [];
  let feed = [...ids];
  let length = 0;
  while (out.length < count) {
    const total = length + feed.length;
    const outputs = await session.run({
      input_ids: new Tensor('int64', BigInt64Array.from(feed, BigInt), [1, feed.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new Tensor('int64', BigInt64Array.from(feed, (_, i) => BigInt(length + i)), [1, feed.length]),
      ...past,
    });
    const logits = outputs['logits']!;
    const vocab = logits.dims.at(-1)!;
    const next = argmaxRow(logits.data as Float32Array | Uint16Array, logits.type === 'float16', (logits.dims.at(-2)! - 1) * vocab, vocab);
    out.push(next);
    past = {};
    for (const [key, value] of Object.entries(outputs)) if (key.startsWith('present')) past[key.replace('present', 'past_key_values')] = value;
    length = total;
    feed = [next];
  }
  return out;
}

/** The argmax of one row; float16 compared on its bits, mapped to an order-preserving key. */
function argmaxRow(data: Float32Array | Uint16Array, half: boolean, start: number, vocab: number): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) {
    const raw = data[start + i]!;
    const value = half ? (raw & 0x8000 ? 0x7fff - (raw & 0x7fff) : 0x8000 + raw) : raw;
    if (value > max) {
      max = value;
      best = i;
    }
  }
  return best;
}

interface MemoryLine {
  promptTokens: number;
  forwardPasses: number;
  peakRssMB: number;
}

/** T5's two child processes (bench/prefill-memory.ts), one after the other. */
function peakMemory(model: string, dtype: string): { short: MemoryLine; long: MemoryLine } {
  const run = (tokens: number): MemoryLine => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'bench/prefill-memory.ts', model, dtype, String(tokens), 'fast'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return JSON.parse(output.trim().split('\n').at(-1)!) as MemoryLine;
  };
  return { short: run(SHORT_INPUT), long: run(LONG_INPUT) };
}

const round = (x: number) => Math.round(x * 100) / 100;
const ms = (x: Interval) => `${x.median.toFixed(1)} ms`;
