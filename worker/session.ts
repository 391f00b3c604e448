/**
 * One loaded model: tokenizer and ONNX session through transformers.js, and a decode loop of
 * our own on its forward pass (see {@link Decoder}) that streams text, stops the moment the
 * answer is complete, on any of the model's end tokens, between decode steps on request, or
 * when greedy decoding is caught in a loop; reuses the instruction's KV cache; and reads the
 * verdict words' probabilities. Everything here is the same in a browser worker and in Node.
 */
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import { ModelLoadError } from '../src/errors.js';
import { Decoder, type KvState, type Meter, type Step } from './decoder.js';
import { IncrementalText } from './detokenizer.js';
import { LoopGuard } from './loop-guard.js';
import { PrefixCache, type PrefixPlacement } from './prefix-cache.js';
import type { ResolvedSource } from './model-source.js';
import type { Device, Dtype, ProgressEvent } from '../src/types.js';
import { logitsPosition, type VerdictReader, type VerdictReading } from './verdict-score.js';

/** How one generation ended. `loop`: greedy decoding repeated itself (see {@link LoopGuard}). */
export type StopReason = 'eos' | 'complete' | 'limit' | 'aborted' | 'loop';

/** What to do while generating. */
export interface GenerateOptions {
  maxNewTokens: number;
  /** True once the text holds the whole answer: generation stops right there. */
  isComplete: (text: string) => boolean;
  /** Polled between forward passes; true stops generation. */
  shouldStop: () => boolean;
  /** Newly decoded text, in order, never splitting a character. */
  onText?: (delta: string) => void;
  /** Where the verdict word comes and how to read its probability, to give a score. */
  verdict?: { opening: RegExp; reader: VerdictReader };
  /** Whether to reuse the cached instruction prefix when `ids` starts with it. @default true */
  usePrefixCache?: boolean;
  /**
   * Answer text that precedes this generation (written earlier, or by the runtime itself):
   * `isComplete` and the verdict opening see it; `Generation.text` does not include it.
   */
  priorText?: string;
  /** For reasoning families: whether the text has left the reasoning, to count its tokens. */
  reasoningClosed?: (text: string) => boolean;
  /**
   * `Date.now()` at which the call times out. A remote session gives up at it (and waits out
   * no `Retry-After` past it); in-process the caller's abort ends the call.
   */
  deadline?: number;
}

/** The model's work for one call, counted. */
export interface Work {
  /** Prompt tokens served from the instruction cache rather than computed. */
  cachedTokens: number;
  /** Forward passes (session runs), prefill chunks and verdict side passes included. */
  forwardPasses: number;
  /** Tokens fed through the model: uncached prompt, generated tokens fed back, verdict words. */
  forwardTokens: number;
}

/** The text generated, and how it ended. */
export interface Generation extends Work {
  /** The answer, cut exactly where it became complete. */
  text: string;
  /** The generated token ids (up to the last one decoded). */
  ids: number[];
  tokens: number;
  stopReason: StopReason;
  /** Why generation ended early, in words, when it was a loop. */
  problem?: string;
  /** Milliseconds from the call to the first generated token. */
  firstTokenMs: number;
  /** Milliseconds from the call to the moment `isComplete` first held. */
  completeMs?: number;
  /** Probability of `harmful` against `unharmful` at the verdict word, when it was read. */
  score?: number;
  /** Tokens generated before the reasoning closed (all of them when it never did). */
  reasoningTokens?: number;
}

/** The verdict word read right after a prompt and an opening, in one pass (fast mode). */
export interface VerdictRead extends Work {
  /** Undefined when the model gave neither verdict word any probability. */
  reading?: VerdictReading;
  aborted: boolean;
  firstTokenMs: number;
}

/**
 * A prompt already fed through the model, kept so that later passes continue from it instead
 * of computing it again: the prompt of an `auto` verdict that turns out unsure, or the part of
 * an answer a watch has judged. Whoever holds one hands it to {@link GuardSession.release}
 * once (an in-process one owns GPU buffers); passes that start from it never change or free it.
 * Only the session that made it knows what else it holds (a remote one holds nothing more).
 */
export interface Prefilled {
  /** The tokens it covers. */
  readonly ids: readonly number[];
}

/** An in-process {@link Prefilled}: its KV cache, and the logits after its last token. */
interface LocalPrefilled extends Prefilled {
  readonly state: KvState;
  /** The logits after its last token: what the next token is chosen from. */
  readonly logits: Float32Array;
}

/** The {@link LocalPrefilled} that a {@link ModelSession} made: it is handed no other kind. */
function local(prefilled: Prefilled | undefined): LocalPrefilled | undefined {
  if (prefilled === undefined) return undefined;
  if (!('state' in prefilled)) throw new Error('A Prefilled from another session was passed to ModelSession.');
  return prefilled as LocalPrefilled;
}

/**
 * What the guard runtime needs of a model: the tokenizer, its end tokens, greedy generation
 * and the one-pass verdict read, and prompts kept for later passes. {@link ModelSession} runs
 * it here; worker/remote-session.ts on an inference server.
 */
export interface GuardSession {
  readonly tokenizer: PreTrainedTokenizer;
  /** Every token id that ends generation. */
  readonly endTokens: ReadonlySet<number>;
  /** Greedy generation after `ids` (the whole model input); see {@link ModelSession.generate}. */
  generate(ids: readonly number[], options: GenerateOptions, from?: Prefilled): Promise<Generation>;
  /** The verdict word's probabilities after `ids` and `opening` (fast mode's one pass). */
  readVerdict(
    ids: readonly number[],
    opening: { text: string; ids: readonly number[] },
    reader: VerdictReader,
    options: Pick<GenerateOptions, 'shouldStop' | 'usePrefixCache' | 'deadline'>,
    from?: Prefilled,
  ): Promise<VerdictRead>;
  /** Keeps `ids` for later passes; see {@link ModelSession.extend}. */
  extend(
    ids: readonly number[],
    options: Pick<GenerateOptions, 'shouldStop' | 'usePrefixCache'>,
    from?: Prefilled,
  ): Promise<{ prefilled?: Prefilled } & Work>;
  /** Frees what a {@link Prefilled} holds; once per Prefilled. */
  release(prefilled: Prefilled | undefined): Promise<void>;
  /** Keeps the family's fixed instructions for every input that starts with one. */
  cachePrefixes(list: readonly (readonly number[])[]): Promise<void>;
  dispose(): Promise<void>;
}

/** Points onnxruntime-web at the app's own copies of its wasm files (absolute URLs). */
export function setOrtWasmPaths(paths: { wasm: string; mjs: string }): void {
  const wasm = env.backends.onnx.wasm;
  if (wasm) wasm.wasmPaths = paths;
}

/** A loaded tokenizer + model pair, run here. */
export class ModelSession implements GuardSession {
  private prefix: PrefixCache | undefined;
  private readonly decoder: Decoder;

  private constructor(
    readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
  ) {
    this.decoder = new Decoder(model, (tokenizer as unknown as { eos_token_id?: number }).eos_token_id);
  }

  /** Every token id that ends generation. */
  get endTokens(): ReadonlySet<number> {
    return this.decoder.endTokens;
  }

  /** Loads tokenizer and model from `source` on `device` with `dtype`. */
  static async load(
    source: ResolvedSource,
    backend: { device: Device; dtype: Dtype },
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<ModelSession> {
    Object.assign(env, source.env);
    const progress_callback = onProgress ? progressAdapter(onProgress) : undefined;
    const common = { revision: source.revision ?? 'main', progress_callback };
    try {
      const tokenizer = await AutoTokenizer.from_pretrained(source.modelId, common);
      const model = await AutoModelForCausalLM.from_pretrained(source.modelId, {
        ...common,
        device: backend.device,
        dtype: backend.dtype,
      });
      return new ModelSession(tokenizer, model);
    } catch (cause) {
      throw new ModelLoadError(
        `Could not load model "${source.modelId}" (${backend.device}, ${backend.dtype}): ${messageOf(cause)}`,
        { cause, details: { model: source.modelId, device: backend.device, dtype: backend.dtype } },
      );
    }
  }

  /**
   * Prefills `ids` (the family's fixed instruction) once and keeps its KV cache, so that
   * every later input that starts with them skips that part of the prompt. `placement: 'cpu'`
   * only serves to measure what keeping it on the GPU saves.
   */
  async cachePrefix(ids: readonly number[], placement: PrefixPlacement = 'device'): Promise<void> {
    await this.cachePrefixes([ids], placement);
  }

  /**
   * {@link cachePrefix} for an instruction that takes several forms (one per moderation mode):
   * each distinct one is prefilled and kept, and an input uses the longest it starts with.
   */
  async cachePrefixes(list: readonly (readonly number[])[], placement: PrefixPlacement = 'device'): Promise<void> {
    await this.prefix?.dispose();
    this.prefix = undefined;
    const distinct = [...new Map(list.filter((ids) => ids.length > 0).map((ids) => [ids.join(','), ids])).values()];
    if (distinct.length === 0) return;
    const entries = [];
    for (const ids of distinct) {
      const step = await this.decoder.prefill(ids, undefined, { passes: 0, tokens: 0 });
      entries.push({ ids, state: step!.state });
    }
    this.prefix = await PrefixCache.keepAll(entries, this.decoder, placement);
  }

  /**
   * Greedy generation after `ids` (the whole model input, already encoded). Greedy, because
   * a verdict must be the same for the same input, here and in explain(), with and without
   * the cache, and the argmax is that by construction (a seeded sampler is too, but a 1e-6
   * logit difference between the cached and the computed prefix can move a sampled token
   * across a threshold); the loop guard ends the repetition greedy decoding can fall into.
   */
  async generate(ids: readonly number[], options: GenerateOptions, prefilled?: Prefilled): Promise<Generation> {
    const from = local(prefilled);
    const started = performance.now();
    const meter: Meter = { passes: 0, tokens: 0 };
    const { past, cachedTokens } = this.pastFor(ids, options.usePrefixCache, from);
    const answer = new Answer(this.tokenizer, options, started);
    // Nothing new after `from`: its own last logits choose the first token.
    let step: Step | undefined =
      from && past && cachedTokens === ids.length
        ? { logits: from.logits, state: past }
        : await this.decoder.prefill(ids.slice(cachedTokens), past, meter, options.shouldStop);
    if (!step) answer.stop('aborted');
    const guard = new LoopGuard(options.maxNewTokens);
    let score: number | undefined;
    try {
      while (step) {
        const next = step.best ?? argmax(step.logits); // the decoder's, found while reading the row
        // The verdict word starts where the opening holds for the last time before it.
        const verdict = options.verdict;
        if (verdict && verdict.opening.test(answer.full) && !verdict.opening.test(answer.fullWith(next))) {
          const reading = await verdict.reader.read(answer.full, logitsPosition(step.logits, step.state, this.decoder, meter));
          if (reading) score = reading.score;
        }
        if (answer.push(next, this.decoder.endTokens.has(next))) break;
        const loop = guard.push(next);
        if (loop) {
          answer.stop('loop', `the model repeats itself: a cycle of ${loop.period} tokens over the last ${loop.span}`);
          break;
        }
        if (answer.tokens >= options.maxNewTokens) break;
        step = await this.decoder.step(next, step.state, meter);
      }
    } finally {
      await this.decoder.release(step?.state);
    }
    return {
      ...answer.result(),
      cachedTokens,
      forwardPasses: meter.passes,
      forwardTokens: meter.tokens,
      ...(score === undefined ? {} : { score }),
    };
  }

  /**
   * Fast mode's one forward pass: the prompt `ids` (its uncached part) and the `opening`'s ids
   * in one prefill, then the verdict words' probabilities from its last position, with a side
   * pass of a few tokens for each word that takes several.
   */
  async readVerdict(
    ids: readonly number[],
    opening: { text: string; ids: readonly number[] },
    reader: VerdictReader,
    options: Pick<GenerateOptions, 'shouldStop' | 'usePrefixCache'>,
    prefilled?: Prefilled,
  ): Promise<VerdictRead> {
    const from = local(prefilled);
    const started = performance.now();
    const meter: Meter = { passes: 0, tokens: 0 };
    const all = [...ids, ...opening.ids];
    const { past, cachedTokens } = this.pastFor(all, options.usePrefixCache, from);
    const step = await this.decoder.prefill(all.slice(cachedTokens), past, meter, options.shouldStop);
    const work = () => ({ cachedTokens, forwardPasses: meter.passes, forwardTokens: meter.tokens, firstTokenMs: performance.now() - started });
    if (!step) return { aborted: true, ...work() };
    try {
      const reading = await reader.read(opening.text, logitsPosition(step.logits, step.state, this.decoder, meter));
      return { aborted: false, ...(reading ? { reading } : {}), ...work() };
    } finally {
      await this.decoder.release(step.state);
    }
  }

  /**
   * Feeds `ids` through the model and keeps their KV cache as a new {@link Prefilled},
   * continuing from `from` when `ids` starts with its tokens (else from the instruction cache).
   * `from` is only read: it stays valid, and its holder still releases it. When `ids` are
   * exactly `from`'s, `from` itself is returned (nothing is fed). Undefined `prefilled` when
   * `shouldStop` said so between chunks (nothing is kept then).
   */
  async extend(
    ids: readonly number[],
    options: Pick<GenerateOptions, 'shouldStop' | 'usePrefixCache'>,
    prefilled?: Prefilled,
  ): Promise<{ prefilled?: Prefilled } & Work> {
    const from = local(prefilled);
    if (from && from.ids.length === ids.length && from.ids.every((id, i) => ids[i] === id)) {
      return { prefilled: from, cachedTokens: ids.length, forwardPasses: 0, forwardTokens: 0 };
    }
    const meter: Meter = { passes: 0, tokens: 0 };
    const { past, cachedTokens } = this.pastFor(ids, options.usePrefixCache, from);
    const step = await this.decoder.prefill(ids.slice(cachedTokens), past, meter, options.shouldStop);
    const work = { cachedTokens, forwardPasses: meter.passes, forwardTokens: meter.tokens };
    if (!step) return work;
    const kept: LocalPrefilled = { ids: [...ids], state: step.state, logits: step.logits };
    return { prefilled: kept, ...work };
  }

  /** Frees what a {@link Prefilled} holds (GPU buffers on WebGPU); once per Prefilled. */
  async release(prefilled: Prefilled | undefined): Promise<void> {
    await this.decoder.release(local(prefilled)?.state);
  }

  /** Frees the ONNX session and its GPU buffers, and the prefix cache. */
  async dispose(): Promise<void> {
    await this.prefix?.dispose();
    this.prefix = undefined;
    await this.model.dispose();
  }

  /**
   * The state to continue `ids` from: `from` (borrowed: this pass only reads it) when `ids`
   * starts with its tokens, else the instruction cache when allowed and `ids` starts with it.
   */
  private pastFor(
    ids: readonly number[],
    usePrefixCache: boolean | undefined,
    from?: LocalPrefilled,
  ): { past?: KvState; cachedTokens: number } {
    if (from && from.ids.length <= ids.length && from.ids.every((id, i) => ids[i] === id)) {
      return { past: { ...from.state, borrowed: true }, cachedTokens: from.ids.length };
    }
    const past = usePrefixCache === false ? undefined : this.prefix?.stateFor(ids);
    return past ? { past, cachedTokens: past.length } : { cachedTokens: 0 };
  }
}

/**
 * The answer as it is generated: its text (decoded so that multi-byte characters split
 * across tokens stay intact), the stream of new text, and why it ended. Shared by every
 * {@link GuardSession}, so that text, end tokens and stops mean the same wherever the model runs.
 */
export class Answer {
  private readonly text: IncrementalText;
  private previous = '';
  private emitted = 0;
  private cut: string | undefined;
  private stopReason: StopReason = 'limit';
  private problem: string | undefined;
  private firstTokenMs = 0;
  private completeMs: number | undefined;
  private reasoningTokens: number | undefined;

  constructor(
    tokenizer: PreTrainedTokenizer,
    private readonly options: GenerateOptions,
    private readonly started: number,
  ) {
    this.text = new IncrementalText(tokenizer);
  }

  get tokens(): number {
    return this.text.tokens.length;
  }

  /** The answer so far, prior text included. */
  get full(): string {
    return this.prior + this.text.text;
  }

  /** The answer with `id` appended, prior text included. */
  fullWith(id: number): string {
    return this.prior + this.text.peek(id);
  }

  private get prior(): string {
    return this.options.priorText ?? '';
  }

  /** The ids pushed so far. */
  get ids(): readonly number[] {
    return this.text.tokens;
  }

  /** Ends the answer for `reason` (before or after its last token). */
  stop(reason: StopReason, problem?: string): void {
    this.stopReason = reason;
    this.problem = problem;
  }

  /** Adds the chosen token; true when generation ends with it. */
  push(id: number, isEnd: boolean): boolean {
    this.previous = this.text.text;
    const text = this.text.push(id);
    if (this.tokens === 1) this.firstTokenMs = performance.now() - this.started;
    // The token that closes the reasoning is the first one of the answer, not of the trace.
    if (this.reasoningTokens === undefined && this.options.reasoningClosed?.(this.prior + text)) {
      this.reasoningTokens = this.tokens - 1;
    }
    let stop = false;
    if (this.options.isComplete(this.prior + text)) {
      this.completeMs = performance.now() - this.started;
      this.cut = this.shortestComplete(text);
      this.stop('complete');
      stop = true;
    } else if (this.options.shouldStop()) {
      this.stop('aborted');
      stop = true;
    } else if (isEnd) {
      this.stop('eos');
      stop = true;
    }
    this.stream(this.cut ?? text);
    return stop;
  }

  result(): Omit<Generation, keyof Work | 'score'> {
    // The whole decode is the reference: it differs from the incremental one only if a
    // decoder rewrites text far back, and then the whole decode wins.
    const text = this.cut ?? this.text.whole();
    this.stream(text, true);
    const reasoningTokens = this.options.reasoningClosed ? (this.reasoningTokens ?? this.tokens) : undefined;
    return {
      ...(reasoningTokens === undefined ? {} : { reasoningTokens }),
      text,
      ids: [...this.text.tokens],
      tokens: this.tokens,
      stopReason: this.stopReason,
      ...(this.problem === undefined ? {} : { problem: this.problem }),
      firstTokenMs: this.firstTokenMs,
      ...(this.completeMs === undefined ? {} : { completeMs: this.completeMs }),
    };
  }

  /**
   * The last token may carry characters past the end of the answer (`</judge>\n`): the
   * shortest prefix of the text that is already complete.
   */
  private shortestComplete(text: string): string {
    for (let end = this.previous.length + 1; end < text.length; end++) {
      const candidate = text.slice(0, end);
      if (this.options.isComplete(this.prior + candidate)) return candidate;
    }
    return text;
  }

  private stream(text: string, final = false): void {
    // A trailing U+FFFD is usually half of a character whose next byte is still to come.
    const end = !final && text.endsWith('\uFFFD') ? text.length - 1 : text.length;
    if (end > this.emitted) {
      this.options.onText?.(text.slice(this.emitted, end));
      this.emitted = end;
    }
  }
}

/** The id of the largest logit (the first one on a tie, as transformers.js' greedy sampler). */
function argmax(logits: Float32Array): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const value = logits[i]!;
    if (value > max) {
      max = value;
      best = i;
    }
  }
  return best;
}

/** Maps transformers.js progress to lingoguard's `ProgressEvent` union. */
function progressAdapter(onProgress: (event: ProgressEvent) => void): (info: ProgressInfo) => void {
  return (info) => {
    switch (info.status) {
      case 'progress':
        onProgress({ status: 'file', file: info.file, loaded: info.loaded, total: info.total });
        break;
      case 'progress_total':
        onProgress({
          status: 'total',
          loaded: info.loaded,
          total: info.total,
          files: Object.keys(info.files).length,
        });
        break;
      default:
        break;
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
