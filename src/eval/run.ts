/**
 * The evaluation loop, shared by the CLI and the browser page: judge each item with a guard
 * (or a pool of guards, one per server, with a bound on the calls in flight), hand each
 * prediction to the caller as soon as it exists (so it can be appended and a rerun can skip
 * it), report progress and throughput, stop cleanly on abort. Predictions are read back leniently:
 * a line cut by an interruption is reported and its item judged again.
 */
import * as v from 'valibot';
import { InvalidInputError, isGuardError } from '../errors.js';
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
  /** Tokens generated in this run, summed over the verdicts' `timings.generatedTokens`. */
  generatedTokens: number;
  /** Generated tokens per second of this run's wall time; 0 before the first item. */
  tokenRate: number;
  /** Calls in flight now, over every guard. */
  inFlight: number;
  /** Estimated time left; `undefined` before the first item. */
  etaMs: number | undefined;
  /** The item just judged. */
  last?: Prediction;
}

/** Options of {@link runEval}. */
export interface RunOptions {
  /**
   * The guard, or a pool of guards of the same model (one per server): each item goes to the
   * guard with the fewest calls in flight, so a free guard takes the next item.
   */
  guard: Classifier | readonly Classifier[];
  /**
   * Most calls in flight at once, over all guards together. An in-process guard runs one call
   * at a time and queues the rest, so more than one per such guard gains nothing.
   * @default the number of guards (one call each)
   */
  concurrency?: number;
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
  /**
   * Receives each prediction as soon as it exists, one call at a time, in the order the items
   * finished: item order with one call in flight, completion order with more. A call's slot
   * takes its next item only once this has settled; if it throws, the run stops and
   * {@link runEval} rejects with its error.
   */
  onPrediction: (prediction: Prediction) => void | Promise<void>;
  onProgress?: (progress: EvalProgress) => void;
  /**
   * Stops the run: no item is started after it, calls in flight are aborted (their items stay
   * undone; one that finished anyway is handed on), and the result says it was interrupted.
   */
  signal?: AbortSignal;
  maxNewTokens?: number;
  /** How each item is judged, passed to every call and written into each prediction; absent: the guard's default. */
  mode?: ClassifyMode;
  /** Injectable clock, for tests. */
  now?: () => number;
}

/** How fast a run went, over its wall time (start to the last call settled). */
export interface Throughput {
  elapsedMs: number;
  itemsPerSecond: number;
  /** Summed over the verdicts' `timings.generatedTokens` (a failed call generated none). */
  generatedTokens: number;
  tokensPerSecond: number;
  /** Items judged by each guard, in the order the guards were given. */
  perGuard: number[];
}

/** How a run ended. */
export interface RunResult {
  judged: number;
  skipped: number;
  interrupted: boolean;
  throughput: Throughput;
}

/**
 * Judges every item not yet done, at most `concurrency` at a time over the guards, each
 * exactly once. A guard error on one item (a timeout, a refused input, a crashed worker, a
 * server that failed) is that item's verdict: `unknown` with the error as its problem, since
 * the guard gave no answer; an abort ends the run instead, and the items in flight stay undone.
 * Resolves only once every call has settled, so nothing is handed on after it.
 * @throws InvalidInputError when there is no guard or `concurrency` is not a positive integer.
 */
export async function runEval(options: RunOptions): Promise<RunResult> {
  const { model, items } = options;
  const guards: readonly Classifier[] = Array.isArray(options.guard) ? options.guard : [options.guard as Classifier];
  const concurrency = options.concurrency ?? guards.length;
  if (guards.length === 0) throw new InvalidInputError('runEval needs at least one guard.');
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidInputError(`concurrency is a whole number of at least 1, not ${String(concurrency)}.`, { details: { concurrency } });
  }
  const now = options.now ?? (() => performance.now());
  const counter = options.countTokens ?? { unit: 'words' as const, count: countWords };
  // Each key once, even if the caller's list repeats one: no item is written twice.
  const keys = new Set(options.done);
  const todo = items.filter((item) => {
    const key = itemKey(item);
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  });
  const skipped = items.length - todo.length;
  // Ends the run on the caller's abort, on a guard's own abort, or on a failed hand-on.
  const stop = new AbortController();
  const signal = stop.signal;
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Each call its own signal, all aborted by one listener: N calls in flight do not stack N
  // listeners on the caller's signal (Node warns past 10).
  const calls = new Set<AbortController>();
  signal.addEventListener('abort', () => calls.forEach((call) => call.abort()), { once: true });
  const callOptions = {
    ...(options.maxNewTokens === undefined ? {} : { maxNewTokens: options.maxNewTokens }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
  };
  const busy = guards.map(() => 0);
  const perGuard = guards.map(() => 0);
  const start = now();
  let next = 0;
  let judged = 0;
  let generatedTokens = 0;
  let failure: { error: unknown } | undefined;
  let handing: Promise<void> = Promise.resolve();

  const measure = () => {
    const elapsedMs = now() - start;
    const perSecond = (n: number) => (judged === 0 || elapsedMs <= 0 ? 0 : (n * 1000) / elapsedMs);
    return { elapsedMs, rate: perSecond(judged), tokenRate: perSecond(generatedTokens) };
  };
  const report = (last?: Prediction) => {
    const { elapsedMs, rate, tokenRate } = measure();
    const etaMs = judged === 0 ? undefined : (elapsedMs / judged) * (todo.length - judged);
    const inFlight = busy.reduce((a, b) => a + b, 0);
    const counts = { done: judged, total: todo.length, skipped, generatedTokens, inFlight };
    options.onProgress?.({ ...counts, elapsedMs, rate, tokenRate, etaMs, ...(last ? { last } : {}) });
  };
  // One hand-on at a time, in the order the items finished: a file append never interleaves.
  const handOn = (prediction: Prediction): Promise<void> => {
    const mine = handing.then(() => (failure === undefined ? options.onPrediction(prediction) : undefined));
    handing = mine.catch(() => undefined);
    return mine;
  };

  // A slot runs one call at a time; any error of ours or the caller's (a failed write, a
  // throwing `onProgress`) stops every slot, and is thrown once all calls have settled.
  const slot = async () => {
    try {
      await judgeNext();
    } catch (error) {
      failure ??= { error };
      stop.abort();
    }
  };
  const judgeNext = async () => {
    while (!signal.aborted && next < todo.length) {
      const item = todo[next++]!;
      // The least busy guard: the one that frees first takes the next item.
      const g = busy.indexOf(Math.min(...busy));
      busy[g]!++;
      const called = now();
      const call = new AbortController();
      calls.add(call);
      let verdict: Verdict;
      try {
        verdict = await guards[g]!.classify(inputOf(item), { ...callOptions, signal: call.signal });
      } catch (error) {
        if (isGuardError(error, 'aborted') || signal.aborted) {
          stop.abort();
          return;
        }
        verdict = failedVerdict(error, model, now() - called);
      } finally {
        busy[g]!--;
        calls.delete(call);
      }
      const prediction = toPrediction(item, verdict, model, counter, options.mode);
      await handOn(prediction);
      judged++;
      perGuard[g]!++;
      generatedTokens += verdict.timings.generatedTokens ?? 0;
      report(prediction);
    }
  };

  report();
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, slot));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure.error;
  const { elapsedMs, rate, tokenRate } = measure();
  return {
    judged,
    skipped,
    interrupted: judged < todo.length,
    throughput: { elapsedMs, itemsPerSecond: rate, generatedTokens, tokensPerSecond: tokenRate, perGuard },
  };
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
