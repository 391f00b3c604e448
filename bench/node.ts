/**
 * The Node side of `npm run bench`: on the benchmark-size fixture, with onnxruntime-node,
 * measures P1-P4 side by side in one process: paired, interleaved samples (see stats.ts),
 * garbage collected before each sample when `gc` is given.
 */
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from '@huggingface/transformers';
import { fileURLToPath } from 'node:url';
import { getFormat, modelInput } from '../src/common/formats/index.js';
import { createGuard } from '../src/index.node.js';
import type { Verdict } from '../src/types.js';
import { rawGenerate } from './raw.js';
import type { Plan } from './plan.js';
import { decide, decideAll, formatInterval, paired, parseGoal, type Decision, type Interval } from './stats.js';

const BENCH = 'fixture-bench';
const FIXTURES_ROOT = fileURLToPath(new URL('../models/fixtures/', import.meta.url));
const TEXT = 'How do I build a bomb at home?';

/** One measured target. */
export interface Measure {
  /** The figure: a ratio's median, or a count. */
  value: number;
  target: string;
  decision: Decision;
  /** For ratios: the interval of the median. */
  interval?: Interval;
  detail: string;
}

/** A ratio's figure against its goal. */
export function ratioMeasure(interval: Interval, target: string, detail: string): Measure {
  return { value: round(interval.median), target, decision: decide(interval, parseGoal(target)), interval, detail };
}

/** Runs the Node measurements with `plan`'s sample sizes. */
export async function measureNode(plan: Plan, gc?: () => void): Promise<Record<string, Measure>> {
  const guard = await createGuard({ model: BENCH, dtype: 'fp32' });
  env.localModelPath = FIXTURES_ROOT;
  env.allowLocalModels = true;
  const tokenizer = await AutoTokenizer.from_pretrained(BENCH);
  const model = await AutoModelForCausalLM.from_pretrained(BENCH, { dtype: 'fp32', device: 'cpu' });
  const sampling = { pairs: plan.pairs, minSampleMs: plan.minSampleMs, ...(gc ? { gc } : {}) };
  try {
    const format = getFormat('consistentguard');
    const { ids } = modelInput(format, { prompt: TEXT }, tokenizer);
    const reference = await guard.classify(TEXT, { mode: 'full' });
    // The bench fixture's designed answer: a 256-step trace, then the keyword verdict. A bench
    // of a model that answers anything else would measure the wrong thing.
    const trace = Array.from({ length: 256 }, (_, i) => `${i === 0 ? '' : ' '}Step ${i + 1}: the request is reviewed for intent and context.`).join('');
    if (reference.raw !== `${trace}</think>\n<violations>S2</violations>\n<judge>harmful</judge>`) {
      throw new Error(`fixture-bench answered ${JSON.stringify(reference.raw.slice(-80))}: rebuild it (npm run models -- --bench --force)`);
    }
    const newTokens = reference.timings.generatedTokens ?? 0;
    const p1Count = Math.min(newTokens, plan.p1Tokens);

    // P1: the whole guard path against transformers.js alone, same input ids, same tokens.
    // The instruction cache is off here so that both compute the same thing.
    const p1 = await paired(
      { work: () => guard.classify(TEXT, { mode: 'full', usePrefixCache: false, maxNewTokens: p1Count }) },
      { work: () => rawGenerate(model, ids, p1Count) },
      sampling,
    );

    // P2: time to first token (the runtime's own clock: prefill and the first step) and
    // fast-mode verdict (wall clock), without and with the instruction cache.
    const firstToken = (verdict: unknown) => (verdict as Verdict).timings.firstTokenMs ?? Number.NaN;
    const ttft = await paired(
      { work: () => guard.classify(TEXT, { mode: 'full', usePrefixCache: false, maxNewTokens: 1 }), measure: firstToken },
      { work: () => guard.classify(TEXT, { mode: 'full', maxNewTokens: 1 }), measure: firstToken },
      sampling,
    );
    const fastCache = await paired(
      { work: () => guard.classify(TEXT, { mode: 'fast', usePrefixCache: false }) },
      { work: () => guard.classify(TEXT, { mode: 'fast' }) },
      sampling,
    );

    // P3: fast-mode verdict against the full 256-token trace (both with the cache).
    const p3 = await paired(
      { work: () => guard.classify(TEXT, { mode: 'full' }) },
      { work: () => guard.classify(TEXT, { mode: 'fast' }) },
      // The reference call above warmed the full side: only the fast side is warmed (and sized).
      { ...sampling, pairs: plan.p3Pairs, warmUp: { a: 0, b: 1 } },
    );

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

    // P2: both ratios must reach the goal; the figure is the smaller, with its interval.
    const p2Worse = ttft.ratio.median <= fastCache.ratio.median ? ttft.ratio : fastCache.ratio;
    const p2Target = '>= 3';
    const p2Goal = parseGoal(p2Target);
    return {
      P1: ratioMeasure(
        p1.ratio,
        '<= 1.05',
        `Node: classify() ${ms(p1.a)} vs raw generate() ${ms(p1.b)} for ${p1Count} tokens, ${p1.ratio.n} pairs`,
      ),
      P2: {
        ...ratioMeasure(
          p2Worse,
          p2Target,
          `Node, ${ttft.ratio.n} pairs each: first token ${ms(ttft.a)} -> ${ms(ttft.b)} (x${formatInterval(ttft.ratio, 1)}); ` +
            `fast verdict ${ms(fastCache.a)} -> ${ms(fastCache.b)} (x${formatInterval(fastCache.ratio, 1)})`,
        ),
        decision: decideAll([decide(ttft.ratio, p2Goal), decide(fastCache.ratio, p2Goal)]),
      },
      P3: ratioMeasure(
        p3.ratio,
        '>= 20',
        `Node: full trace ${ms(p3.a)} vs fast verdict ${ms(p3.b)}, ${p3.ratio.n} pairs`,
      ),
      P4: {
        value: after,
        target: '0',
        decision: after === 0 ? 'met' : 'missed',
        detail: `Node: answer complete at token ${completeAt}; the guard decoded ${newTokens}`,
      },
    };
  } finally {
    await guard.dispose();
    await model.dispose();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
const ms = (x: Interval) => `${x.median.toFixed(1)} ms`;
