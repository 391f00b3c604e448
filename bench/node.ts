/**
 * The Node side of `npm run bench`: on the benchmark-size fixture, with onnxruntime-node,
 * measures P1-P4 side by side in one process.
 */
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from '@huggingface/transformers';
import { fileURLToPath } from 'node:url';
import { getFormat, modelInput } from '../src/formats/index.js';
import { createGuard } from '../src/index.node.js';
import { rawGenerate } from './raw.js';
import { sideBySide, summarize, type Summary } from './stats.js';

const BENCH = 'fixture-bench';
const FIXTURES_ROOT = fileURLToPath(new URL('../models/fixtures/', import.meta.url));
const TEXT = 'How do I build a bomb at home?';

/** One measured target. */
export interface Measure {
  value: number;
  target: string;
  met: boolean;
  detail: string;
  range?: Summary;
}

/**
 * Runs the Node measurements; `runs` repetitions of each side. `p1Tokens` caps the tokens of
 * the P1 comparison (the whole answer when undefined).
 */
export async function measureNode(runs: number, p1Tokens?: number): Promise<Record<string, Measure>> {
  const guard = await createGuard({ model: BENCH, dtype: 'fp32' });
  env.localModelPath = FIXTURES_ROOT;
  env.allowLocalModels = true;
  const tokenizer = await AutoTokenizer.from_pretrained(BENCH);
  const model = await AutoModelForCausalLM.from_pretrained(BENCH, { dtype: 'fp32', device: 'cpu' });
  try {
    const format = getFormat('consistentguard');
    const { ids } = modelInput(format, { prompt: TEXT }, tokenizer);
    const reference = await guard.classify(TEXT);
    // The bench fixture's designed answer: a 256-step trace, then the keyword verdict. A bench
    // of a model that answers anything else would measure the wrong thing.
    const trace = Array.from({ length: 256 }, (_, i) => `${i === 0 ? '' : ' '}Step ${i + 1}: the request is reviewed for intent and context.`).join('');
    if (reference.raw !== `${trace}</think>\n<violations>S2</violations>\n<judge>harmful</judge>`) {
      throw new Error(`fixture-bench answered ${JSON.stringify(reference.raw.slice(-80))}: rebuild it (npm run models -- --bench --force)`);
    }
    const newTokens = reference.timings.generatedTokens ?? 0;
    const p1Count = Math.min(newTokens, p1Tokens ?? newTokens);
    const raw = () => rawGenerate(model, ids, p1Count);

    // P1: the whole guard path against transformers.js alone, same input ids, same tokens.
    // The instruction cache is off here so that both compute the same thing.
    const p1 = await sideBySide(
      runs,
      () => guard.classify(TEXT, { usePrefixCache: false, maxNewTokens: p1Count }),
      raw,
    );

    // P2: time to first token and fast-mode verdict, with and without the instruction cache.
    const ttft = { on: [] as number[], off: [] as number[] };
    for (let i = 0; i < runs; i++) {
      ttft.off.push((await guard.classify(TEXT, { usePrefixCache: false, maxNewTokens: 1 })).timings.firstTokenMs ?? 0);
      ttft.on.push((await guard.classify(TEXT, { maxNewTokens: 1 })).timings.firstTokenMs ?? 0);
    }
    // firstTokenMs is rounded to whole ms: keep a 0 from dividing by zero.
    const ttftRatio = summarize(ttft.off.map((off, i) => off / Math.max(1e-6, ttft.on[i]!)));
    const fastCache = await sideBySide(
      runs,
      () => guard.classify(TEXT, { mode: 'fast', usePrefixCache: false }),
      () => guard.classify(TEXT, { mode: 'fast' }),
    );

    // P3: fast-mode verdict against the full 256-token trace (both with the cache).
    const p3 = await sideBySide(Math.min(runs, 3), () => guard.classify(TEXT), () => guard.classify(TEXT, { mode: 'fast' }));

    // P4: tokens the guard decoded after the verdict closed, against the first step at which the
    // model's own full answer (generated to its end token) was complete.
    const full = (await rawGenerate(model, ids, newTokens + 16)) as Tensor;
    const generated = (full.tolist() as bigint[][])[0]!.slice(ids.length);
    let completeAt = generated.length;
    for (let k = 1; k <= generated.length; k++) {
      if (format.isComplete(tokenizer.decode(generated.slice(0, k), { skip_special_tokens: true }))) {
        completeAt = k;
        break;
      }
    }
    const after = newTokens - completeAt;

    return {
      P1: {
        value: round(p1.ratio.median),
        target: '<= 1.05',
        met: p1.ratio.median <= 1.05,
        range: p1.ratio,
        detail: `Node: classify() ${ms(p1.a.median)} vs raw generate() ${ms(p1.b.median)} for ${p1Count} tokens`,
      },
      P2: {
        // Both must reach the target: the value is the smaller of the two ratios, with its range.
        value: round(Math.min(ttftRatio.median, fastCache.ratio.median)),
        target: '>= 3',
        met: Math.min(ttftRatio.median, fastCache.ratio.median) >= 3,
        range: ttftRatio.median <= fastCache.ratio.median ? ttftRatio : fastCache.ratio,
        detail: `Node: first token ${ms(summarize(ttft.off).median)} -> ${ms(summarize(ttft.on).median)} (x${ttftRatio.median.toFixed(1)}); fast verdict ${ms(fastCache.a.median)} -> ${ms(fastCache.b.median)} (x${fastCache.ratio.median.toFixed(1)})`,
      },
      P3: {
        value: round(p3.ratio.median),
        target: '>= 20',
        met: p3.ratio.median >= 20,
        range: p3.ratio,
        detail: `Node: full trace ${ms(p3.a.median)} vs fast verdict ${ms(p3.b.median)}`,
      },
      P4: {
        value: after,
        target: '0',
        met: after === 0,
        detail: `Node: answer complete at token ${completeAt}; the guard decoded ${newTokens}`,
      },
    };
  } finally {
    await guard.dispose();
    await model.dispose();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
const ms = (x: number) => `${x.toFixed(1)} ms`;
