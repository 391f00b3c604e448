/**
 * The evaluation loop, shared by the CLI and the browser page: judge each item with a guard,
 * hand each prediction to the caller as soon as it exists (so it can be appended and a rerun
 * can skip it), report progress, stop cleanly on abort. Predictions are read back leniently:
 * a line cut by an interruption is reported and its item judged again.
 */
import * as v from 'valibot';
import { isGuardError } from '../errors.js';
import { LABELS, type ClassifyMode, type Label, type ModerationInput, type Timings, type Verdict, type VerdictPath } from '../types.js';
import { countWords } from './rewards.js';
import { describeIssue, forEachJsonLine, itemKey, type BenchmarkItem, type GoldLabel, type RowProblem } from './data.js';

/** What a reasoning length is counted in: model tokens, or whitespace words where no tokenizer is at hand. */
export type TokenUnit = 'tokens' | 'words';

/** One judged item, as written to `predictions.jsonl`. */
export interface Prediction {
  id: string;
  dataset: string;
  lang: string;
  gold: GoldLabel;
  label: Label;
  /** `response` when an AI response was judged (the item had one); absent for a prompt. */
  mode?: 'response';
  /** The model's probability of `harmful`, when the runtime could read it. */
  score?: number;
  reasoning: string;
  timings: Timings;
  /** The model that judged. */
  model: string;
  /** The exact generated text (what the trace rewards and CAO pairs read). */
  raw: string;
  /** Why the label is `unknown`, when it is (a malformed answer, or an error such as a timeout). */
  problem?: string;
  /** Length of `reasoning` in `tokenUnit`. */
  reasoningTokens: number;
  tokenUnit: TokenUnit;
  /**
   * How the guard was asked to judge (`--mode`). Absent in predictions of runs that passed no
   * mode (the guard's default; earlier versions always reasoned, as `full`).
   */
  classifyMode?: ClassifyMode;
  /** Which path gave the verdict, when the guard said (`auto` mode): one pass, or reasoned. */
  path?: VerdictPath;
}

/** The modes a run can be asked for, as the CLI's `--mode` spells them. */
export const CLASSIFY_MODES: readonly ClassifyMode[] = ['full', 'fast', 'auto'];

const PredictionSchema = v.object({
  id: v.string(),
  dataset: v.string(),
  lang: v.string(),
  gold: v.picklist(['harmful', 'unharmful']),
  label: v.picklist(LABELS),
  mode: v.optional(v.literal('response')),
  score: v.optional(v.number()),
  reasoning: v.string(),
  timings: v.looseObject({ totalMs: v.number() }),
  model: v.string(),
  raw: v.string(),
  problem: v.optional(v.string()),
  reasoningTokens: v.number(),
  tokenUnit: v.picklist(['tokens', 'words']),
  classifyMode: v.optional(v.picklist(CLASSIFY_MODES)),
  path: v.optional(v.picklist(['fast', 'reasoned'])),
});

/** Reads a predictions file back; unreadable lines (an interrupted last write) are reported, and their items will be judged again. */
export function parsePredictions(text: string, source = 'predictions.jsonl'): { predictions: Prediction[]; problems: RowProblem[] } {
  const predictions = new Map<string, Prediction>();
  const problems: RowProblem[] = [];
  forEachJsonLine(text, source, problems, (value, line) => {
    const row = v.safeParse(PredictionSchema, value);
    if (!row.success) {
      problems.push({ source, line, message: describeIssue(row.issues) });
      return;
    }
    // The object schema keeps only known fields; `timings` keeps all of its own.
    predictions.set(itemKey(row.output), row.output as Prediction);
  });
  return { predictions: [...predictions.values()], problems };
}

/** The part of a `Guard` the loop needs. */
export interface Classifier {
  classify(input: string | ModerationInput, options?: { signal?: AbortSignal; maxNewTokens?: number; mode?: ClassifyMode }): Promise<Verdict>;
}

/** Where the loop stands. */
export interface EvalProgress {
  /** Items judged in this run. */
  done: number;
  /** Items to judge in this run (the selection less those already done). */
  total: number;
  /** Items skipped because an earlier run did them. */
  skipped: number;
  elapsedMs: number;
  /** Items per second in this run; 0 before the first. */
  rate: number;
  /** Estimated time left; `undefined` before the first item. */
  etaMs: number | undefined;
  /** The item just judged. */
  last?: Prediction;
}

/** Options of {@link runEval}. */
export interface RunOptions {
  guard: Classifier;
  /** Model id written into each prediction. */
  model: string;
  items: readonly BenchmarkItem[];
  /** Keys ({@link itemKey}) of items already judged: skipped. */
  done?: ReadonlySet<string>;
  /**
   * Counts the tokens of a reasoning trace when the verdict does not say (`timings.reasoningTokens`,
   * counted by the runtime); by default whitespace words.
   */
  countTokens?: { unit: TokenUnit; count: (text: string) => number };
  /** Receives each prediction as soon as it exists; awaited before the next item. */
  onPrediction: (prediction: Prediction) => void | Promise<void>;
  onProgress?: (progress: EvalProgress) => void;
  /** Stops the run after the current item; the result says it was interrupted. */
  signal?: AbortSignal;
  maxNewTokens?: number;
  /** How each item is judged, passed to every call and written into each prediction; absent: the guard's default. */
  mode?: ClassifyMode;
  /** Injectable clock, for tests. */
  now?: () => number;
}

/** How a run ended. */
export interface RunResult {
  judged: number;
  skipped: number;
  interrupted: boolean;
}

/**
 * Judges every item not yet done, in order. A guard error on one item (a timeout, a refused
 * input, a crashed worker) is that item's verdict: `unknown` with the error as its problem,
 * since the guard gave no answer; an abort ends the run instead, and the item stays undone.
 */
export async function runEval(options: RunOptions): Promise<RunResult> {
  const { guard, model, items, signal } = options;
  const now = options.now ?? (() => performance.now());
  const counter = options.countTokens ?? { unit: 'words' as const, count: countWords };
  const todo = items.filter((item) => !options.done?.has(itemKey(item)));
  const skipped = items.length - todo.length;
  const start = now();
  let judged = 0;
  const report = (last?: Prediction) => {
    const elapsedMs = now() - start;
    const rate = judged === 0 || elapsedMs <= 0 ? 0 : (judged * 1000) / elapsedMs;
    const etaMs = judged === 0 ? undefined : (elapsedMs / judged) * (todo.length - judged);
    options.onProgress?.({ done: judged, total: todo.length, skipped, elapsedMs, rate, etaMs, ...(last ? { last } : {}) });
  };
  report();
  for (const item of todo) {
    if (signal?.aborted) return { judged, skipped, interrupted: true };
    const called = now();
    let verdict: Verdict;
    try {
      verdict = await guard.classify(inputOf(item), {
        ...(signal ? { signal } : {}),
        ...(options.maxNewTokens === undefined ? {} : { maxNewTokens: options.maxNewTokens }),
        ...(options.mode === undefined ? {} : { mode: options.mode }),
      });
    } catch (error) {
      if (isGuardError(error, 'aborted') || signal?.aborted) return { judged, skipped, interrupted: true };
      verdict = failedVerdict(error, model, now() - called);
    }
    const prediction = toPrediction(item, verdict, model, counter, options.mode);
    await options.onPrediction(prediction);
    judged++;
    report(prediction);
  }
  return { judged, skipped, interrupted: false };
}

/** What the guard judges for `item`: its prompt, or its response in the context of the prompt. */
function inputOf(item: Pick<BenchmarkItem, 'text' | 'response'>): string | ModerationInput {
  return item.response === undefined ? item.text : { prompt: item.text, response: item.response };
}

function failedVerdict(error: unknown, model: string, totalMs: number): Verdict {
  const problem = isGuardError(error) ? `${error.code}: ${error.message}` : `error: ${String(error)}`;
  return {
    label: 'unknown',
    categories: [],
    reasoning: '',
    language: { code: 'und', script: 'Zyyy', confidence: 0 },
    model,
    timings: { totalMs },
    raw: '',
    // No model ran: no trace, which is what `fast` says.
    path: 'fast',
    problem,
  };
}

function toPrediction(
  item: BenchmarkItem,
  verdict: Verdict,
  model: string,
  counter: { unit: TokenUnit; count: (text: string) => number },
  mode: ClassifyMode | undefined,
): Prediction {
  return {
    id: item.id,
    dataset: item.dataset,
    lang: item.lang,
    gold: item.gold,
    label: verdict.label,
    ...(item.response === undefined ? {} : { mode: 'response' as const }),
    ...(verdict.score === undefined ? {} : { score: verdict.score }),
    reasoning: verdict.reasoning,
    timings: verdict.timings,
    model,
    raw: verdict.raw,
    ...(verdict.problem === undefined ? {} : { problem: verdict.problem }),
    // The runtime counts reasoning tokens as it decodes them; the counter stands in without it.
    reasoningTokens: verdict.timings.reasoningTokens ?? (verdict.reasoning === '' ? 0 : counter.count(verdict.reasoning)),
    tokenUnit: verdict.timings.reasoningTokens === undefined ? counter.unit : 'tokens',
    ...(mode === undefined ? {} : { classifyMode: mode }),
    ...(verdict.path === undefined ? {} : { path: verdict.path }),
  };
}
