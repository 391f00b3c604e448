/**
 * The chat-speed rows of `npm run bench`, on the models that have the behaviour by design
 * (twin-qwen3 and fixture-consistentguard reason and are unsure of `knife` on purpose;
 * twin-llama-guard-3 has no reasoning), with onnxruntime-node:
 *
 * - A1 / A2: prompt checks in `auto` mode against `full`, on confident inputs (the usual trigger
 *   and benign texts) and on unsure ones (`UNSURE_TEXTS`): tokens decoded and fed per verdict,
 *   counted, and time per verdict, paired and interleaved. For Llama Guard, A1 shows that `auto`
 *   is its one pass whatever the input.
 * - S1: guard compute (tokens fed through the model: prefilled plus decoded, counted) to watch a
 *   ~1,000-token answer checked at each sentence, against re-judging the answer so far from
 *   scratch (`classify()`, fast mode, instruction cache on) at each of the same checks.
 * - S2: how late a block comes: the answer streamed at a steady pace turns harmful at one
 *   sentence; the delay from that sentence's end to the block, in checks that finished between
 *   them (the one in flight; goal ≤ 1) and in tokens of the answer streamed meanwhile.
 *
 * Every call passes its mode: the library's default mode is not what is measured.
 */
import { AutoTokenizer, env } from '@huggingface/transformers';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { UNSURE_TEXTS } from '../models/build/lexicon.js';
import { createGuard, type Guard } from '../src/index.node.js';
import type { ClassifyMode, Dtype, Verdict } from '../src/types.js';
import { ratioMeasure, type Measure } from './node.js';
import type { Plan } from './plan.js';
import { medianInterval, paired, type Interval } from './stats.js';

const FIXTURES_ROOT = fileURLToPath(new URL('../models/fixtures/', import.meta.url));

/**
 * The models of the chat-speed rows. `reasons`: a reasoning family, designed to be unsure of
 * `UNSURE_TEXTS` in one pass (A2); `watched`: a twin whose response watch is measured (S1, S2).
 */
export const MODERATION_MODELS: readonly { model: string; dtype: Dtype; reasons: boolean; watched: boolean }[] = [
  { model: 'twin-qwen3', dtype: 'q4f16', reasons: true, watched: true },
  { model: 'fixture-consistentguard', dtype: 'fp32', reasons: true, watched: false },
  { model: 'twin-llama-guard-3', dtype: 'q4f16', reasons: false, watched: true },
];

/** Inputs every test model is sure of: trigger words (in two scripts) and a benign question. */
export const CONFIDENT_TEXTS = ['How do I build a bomb at home?', 'How do I bake bread at home?', '怎样在家里制作一个炸弹？'] as const;

/** The watched answer's prompt. */
const PROMPT = 'How do I bake a good loaf of bread?';
/** Sentences of the watched answer (no trigger word of any test model), cycled. */
const STEPS = [
  'Mix the flour with warm water and a pinch of salt',
  'Knead the dough until it feels smooth and springs back',
  'Cover the bowl and leave it somewhere warm for an hour',
  'Shape the risen dough into a round loaf and dust it with flour',
  'Bake the loaf until the crust is brown and sounds hollow',
] as const;
/** Sentences in the watched answer: ~1,000 tokens with the real tokenizers. */
const SENTENCES = 60;
/** The harmful sentence of S2 (`bomb`: a trigger of every test model), and where it goes. */
const HARMFUL = 'Then build a bomb in the garage and leave it near the oven.';
const HARMFUL_AT = 12;
/** S2's stream: one word-sized chunk every this many ms (50 chunks/s, a chat model's pace). */
const CHUNK_MS = 20;

/** The benign answer: sentence `i` is `Step i+1: …`. */
export function benignAnswer(sentences = SENTENCES): string[] {
  return Array.from({ length: sentences }, (_, i) => `Step ${i + 1}: ${STEPS[i % STEPS.length]!}. `);
}

/** Measures A1, A2, S1 and S2 on {@link MODERATION_MODELS}; rows keyed `<row> <model>`. */
export async function measureModeration(plan: Plan, gc?: () => void): Promise<Record<string, Measure>> {
  env.localModelPath = FIXTURES_ROOT;
  env.allowLocalModels = true;
  const rows: Record<string, Measure> = {};
  for (const entry of MODERATION_MODELS) {
    console.log(`  ${entry.model} (${entry.dtype})…`);
    const guard = await createGuard({ model: entry.model, dtype: entry.dtype });
    try {
      const sampling = { pairs: plan.pairs, minSampleMs: plan.minSampleMs, ...(gc ? { gc } : {}) };
      rows[`A1 ${entry.model}`] = entry.reasons
        ? await autoAgainstFull(guard, CONFIDENT_TEXTS, 'confident', sampling)
        : await autoAgainstFull(guard, [...CONFIDENT_TEXTS, ...UNSURE_TEXTS], 'one-pass', sampling);
      if (entry.reasons) rows[`A2 ${entry.model}`] = await autoAgainstFull(guard, UNSURE_TEXTS, 'unsure', sampling);
      if (entry.watched) {
        const tokenizer = await AutoTokenizer.from_pretrained(entry.model);
        const count = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).length;
        rows[`S1 ${entry.model}`] = await watchCost(guard, count);
        rows[`S2 ${entry.model}`] = await blockDelay(guard, count, plan.quick ? 3 : 5);
      }
    } finally {
      await guard.dispose();
    }
  }
  return rows;
}

/** Means of what a verdict cost, counted by the runtime. */
interface Counted {
  decoded: number;
  fed: number;
  reasoned: number;
}

function counted(verdicts: readonly Verdict[]): Counted {
  const mean = (f: (v: Verdict) => number) => verdicts.reduce((sum, v) => sum + f(v), 0) / verdicts.length;
  return {
    decoded: mean((v) => v.timings.generatedTokens ?? 0),
    fed: mean((v) => v.timings.forwardTokens ?? 0),
    reasoned: verdicts.filter((v) => v.path === 'reasoned').length,
  };
}

/**
 * `auto` against `full` on `texts`: counted tokens per verdict (exact) and the time per verdict
 * (a sample judges every text once). Confident inputs: `auto` must give the one-pass verdict, so
 * its time is a fraction of `full`'s (goal ≤ 0.5x); unsure ones: it reasons from the prompt
 * already prefilled, at `full`'s cost plus one pass (≤ 1.1x). A family without reasoning: one
 * pass, and the one-pass tokens, whatever the input.
 */
async function autoAgainstFull(
  guard: Guard,
  texts: readonly string[],
  kind: 'confident' | 'unsure' | 'one-pass',
  sampling: { pairs: number; minSampleMs: number; gc?: () => void },
): Promise<Measure> {
  const judgeAll = async (mode: ClassifyMode) => {
    const verdicts: Verdict[] = [];
    for (const text of texts) verdicts.push(await guard.classify(text, { mode }));
    return verdicts;
  };
  const [auto, full, fast] = [await judgeAll('auto'), await judgeAll('full'), await judgeAll('fast')];
  const a = counted(auto);
  const f = counted(full);
  const same = auto.filter((v, i) => v.label === full[i]!.label).length;
  const n = texts.length;
  const described = `auto ${a.decoded.toFixed(1)} tokens decoded, ${a.fed.toFixed(1)} fed, reasoned ${a.reasoned}/${n} vs full ${f.decoded.toFixed(1)} decoded, ${f.fed.toFixed(1)} fed; labels as full's ${same}/${n}`;
  if (kind === 'one-pass') {
    const onePass = auto.every((v, i) => v.path === 'fast' && v.reasoning === '' && v.timings.generatedTokens === fast[i]!.timings.generatedTokens);
    return {
      value: a.reasoned,
      target: 'one pass',
      decision: onePass && same === n ? 'met' : 'missed',
      detail: `${n} inputs (the confident and the unsure ones), a family without reasoning: ${described}; auto decodes fast mode's tokens on every input`,
    };
  }
  const timed = await paired({ work: () => judgeAll('auto') }, { work: () => judgeAll('full') }, sampling);
  const perVerdict = (x: Interval) => `${(x.median / n).toFixed(1)} ms`;
  const expectedPath = kind === 'confident' ? 0 : n;
  const measure = ratioMeasure(
    timed.ratio,
    kind === 'confident' ? '<= 0.5' : '<= 1.1',
    `${n} ${kind} inputs: ${described}; ${perVerdict(timed.a)} vs ${perVerdict(timed.b)} per verdict, ${timed.ratio.n} pairs`,
  );
  // Reasoning on the wrong inputs is a miss whatever the clock says.
  return a.reasoned === expectedPath && same === n ? measure : { ...measure, decision: 'missed' };
}

/** Pushes `sentences` one at a time, each checked before the next arrives. */
async function watchAll(guard: Guard, sentences: readonly string[]) {
  const watch = guard.watch({ prompt: PROMPT }, { mode: 'fast' });
  for (const sentence of sentences) {
    watch.push(sentence);
    await watch.settled();
  }
  return watch.end();
}

/**
 * S1: the tokens a watch feeds through the model over a whole answer checked at each sentence,
 * against a from-scratch fast `classify()` of the answer so far at each of the same checks.
 * Counted, so exact: the figure is the ratio itself.
 */
async function watchCost(guard: Guard, count: (text: string) => number): Promise<Measure> {
  const result = await watchAll(guard, benignAnswer());
  let incremental = 0;
  let scratch = 0;
  for (const check of result.checks) {
    incremental += check.verdict.timings.forwardTokens ?? Number.NaN;
    const reference = await guard.classify({ prompt: PROMPT, response: result.text.slice(0, check.end) }, { mode: 'fast' });
    scratch += reference.timings.forwardTokens ?? Number.NaN;
  }
  const ratio = incremental / scratch;
  const passed = !result.blocked && result.checks.length === SENTENCES;
  return {
    value: Math.round(ratio * 1000) / 1000,
    target: '<= 0.2',
    decision: passed && ratio <= 0.2 ? 'met' : 'missed',
    detail:
      `${result.checks.length} checks (one a sentence, the last at end()) on a ${count(result.text)}-token answer: ` +
      `${incremental} tokens fed incrementally vs ${scratch} re-judging from scratch at each check (fast mode, instruction cached both ways)`,
  };
}

/**
 * S2: the answer streamed word by word at {@link CHUNK_MS}, harmful at sentence
 * {@link HARMFUL_AT}, not waiting for the checks. When the chunk after that sentence arrives (a
 * sentence end is known from the next word), the checks done so far are noted; at the block,
 * the delay is the checks done in between but the blocking one (at most the check that was in
 * flight) and the tokens streamed since the sentence ended. `runs` streams, the worst counts.
 */
async function blockDelay(guard: Guard, count: (text: string) => number, runs: number): Promise<Measure> {
  const sentences = benignAnswer();
  sentences[HARMFUL_AT] = `${HARMFUL} `;
  const answer = sentences.join('');
  const harmfulEnd = sentences.slice(0, HARMFUL_AT + 1).join('').trimEnd().length;
  const chunks = answer.match(/\S+\s*/g) ?? [];
  const checks: number[] = [];
  const tokens: number[] = [];
  const delaysMs: number[] = [];
  let misses = 0;
  for (let run = 0; run < runs; run++) {
    const watch = guard.watch({ prompt: PROMPT }, { mode: 'fast' });
    let doneAtEnd: number | undefined;
    let endedAt = 0;
    for (const chunk of chunks) {
      watch.push(chunk);
      if (doneAtEnd === undefined && watch.text.length > harmfulEnd) {
        doneAtEnd = watch.checks.length;
        endedAt = performance.now();
      }
      await sleep(CHUNK_MS);
      if (watch.blocked) break;
    }
    const streamed = watch.text;
    const result = await watch.end();
    const blockedAt = result.blockedAt;
    if (!result.blocked || blockedAt === undefined || blockedAt.end < harmfulEnd || doneAtEnd === undefined) {
      misses++;
      continue;
    }
    checks.push(blockedAt.index - doneAtEnd);
    tokens.push(count(streamed.slice(harmfulEnd)));
    delaysMs.push(performance.now() - endedAt);
  }
  if (checks.length === 0) return { value: Number.NaN, target: '<= 1', decision: 'missed', detail: `never blocked at the harmful sentence in ${runs} streams` };
  const worst = Math.max(...checks);
  const t = medianInterval(tokens);
  return {
    value: worst,
    target: '<= 1',
    decision: misses === 0 && worst <= 1 ? 'met' : 'missed',
    detail:
      `answer streamed a word every ${CHUNK_MS} ms, harmful at sentence ${HARMFUL_AT + 1} of ${SENTENCES}: checks done between its end and the block, ` +
      `worst of ${runs} streams: ${worst} (each: ${checks.join(', ')}${misses ? `; ${misses} not blocked there` : ''}); ` +
      `streamed since its end: ${fmt(t, 0)} tokens, ${fmt(medianInterval(delaysMs), 0)} ms (median [range])`,
  };
}

const fmt = (x: Interval, digits: number) => `${x.median.toFixed(digits)} [${x.low.toFixed(digits)}–${x.high.toFixed(digits)}]`;
