/**
 * One loaded model: tokenizer and ONNX session through transformers.js, and greedy generation
 * that streams text, stops the moment the answer is complete, stops between decode steps on
 * request, reuses the instruction's KV cache, and reads the verdict word's probability.
 * Everything here is the same in a browser worker and in Node.
 */
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  DynamicCache,
  LogitsProcessorList,
  StoppingCriteria,
  Tensor,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import { ModelLoadError } from '../src/errors.js';
import { PrefixCache } from './prefix-cache.js';
import type { ResolvedSource } from './model-source.js';
import type { Device, Dtype, ProgressEvent } from './protocol.js';
import { VerdictScorer, type VerdictCandidates } from './verdict-score.js';

/** How one generation ended. */
export type StopReason = 'eos' | 'complete' | 'limit' | 'aborted';

/** What to do while generating. */
export interface GenerateOptions {
  maxNewTokens: number;
  /** True once the text holds the whole answer: generation stops right there. */
  isComplete: (text: string) => boolean;
  /** Polled between decode steps; true stops generation. */
  shouldStop: () => boolean;
  /** Newly decoded text, in order, never splitting a character. */
  onText?: (delta: string) => void;
  /** Where the verdict word comes and which token ids spell each verdict, to read a score. */
  verdict?: { opening: RegExp; candidates: VerdictCandidates };
  /** Whether to reuse the cached instruction prefix when `ids` starts with it. @default true */
  usePrefixCache?: boolean;
  /**
   * Answer text that precedes this generation (written earlier, or by the runtime itself):
   * `isComplete` and the verdict opening see it; `Generation.text` does not include it.
   */
  priorText?: string;
  /** For reasoning families: whether the text has left the reasoning, to count its tokens. */
  reasoningClosed?: (text: string) => boolean;
}

/** The text generated, and how it ended. */
export interface Generation {
  /** The answer, cut exactly where it became complete. */
  text: string;
  /** The generated token ids (up to the last one decoded). */
  ids: number[];
  tokens: number;
  stopReason: StopReason;
  /** Milliseconds from the call to the first generated token. */
  firstTokenMs: number;
  /** Milliseconds from the call to the moment `isComplete` first held. */
  completeMs?: number;
  /** Probability of `harmful` against `unharmful` at the verdict word, when it was read. */
  score?: number;
  /** Prompt tokens served from the instruction cache rather than computed. */
  cachedTokens: number;
  /** Tokens generated before the reasoning closed (all of them when it never did). */
  reasoningTokens?: number;
}

/** Points onnxruntime-web at the app's own copies of its wasm files (absolute URLs). */
export function useWasmFiles(paths: { wasm: string; mjs: string }): void {
  const wasm = env.backends.onnx.wasm;
  if (wasm) wasm.wasmPaths = paths;
}

/** A loaded tokenizer + model pair. */
export class ModelSession {
  private prefix: PrefixCache | undefined;

  private constructor(
    readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
  ) {}

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
      yieldBeforeEachStep(model);
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
   * every later input that starts with them skips that part of the prompt.
   */
  async cachePrefix(ids: readonly number[]): Promise<void> {
    this.prefix = undefined;
    if (ids.length === 0) return;
    const out = (await this.model.generate({
      inputs: idTensor(ids),
      attention_mask: maskTensor(ids.length),
      max_new_tokens: 1,
      do_sample: false,
      return_dict_in_generate: true,
    })) as { past_key_values: DynamicCache };
    this.prefix = await PrefixCache.capture(ids, out.past_key_values);
  }

  /** Greedy generation after `ids` (the whole model input, already encoded). */
  async generate(ids: readonly number[], options: GenerateOptions): Promise<Generation> {
    const started = performance.now();
    const criterion = new AnswerCriterion(this.tokenizer, ids.length, options, started);
    const cache = options.usePrefixCache === false ? undefined : this.prefix?.copyFor(ids);
    const scorer = options.verdict
      ? new VerdictScorer(options.verdict.opening, options.verdict.candidates, () => criterion.textSoFar)
      : undefined;
    const processors = new LogitsProcessorList();
    if (scorer) processors.push(scorer);
    try {
      await this.model.generate({
        inputs: idTensor(ids),
        attention_mask: maskTensor(ids.length),
        max_new_tokens: options.maxNewTokens,
        do_sample: false,
        stopping_criteria: [criterion],
        logits_processor: processors,
        ...(cache ? { past_key_values: cache } : {}),
      });
    } finally {
      // A cache handed to generate() is kept alive by it (and grown in place): ours to free.
      await cache?.dispose();
    }
    return { ...criterion.result(), cachedTokens: cache ? this.prefix!.length : 0, ...scorer?.result() };
  }

  /** Frees the ONNX session and its GPU buffers, and drops the prefix cache (CPU arrays). */
  async dispose(): Promise<void> {
    this.prefix = undefined;
    await this.model.dispose();
  }
}

/**
 * Decodes the generated tokens after every step: streams the new text, and stops generation
 * when the answer is complete or the caller asks. Decoding the whole answer each step (rather
 * than token by token) keeps multi-byte characters split across tokens intact.
 */
class AnswerCriterion extends StoppingCriteria {
  private text = '';
  private ids: number[] = [];
  private previous = '';
  private emitted = 0;
  private tokens = 0;
  private stopReason: StopReason = 'limit';
  private firstTokenMs = 0;
  private completeMs: number | undefined;
  private reasoningTokens: number | undefined;

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly promptLength: number,
    private readonly options: GenerateOptions,
    private readonly started: number,
  ) {
    super();
  }

  /** The answer so far (prior text included), before the token now being chosen. */
  get textSoFar(): string {
    return this.prior + this.text;
  }

  private get prior(): string {
    return this.options.priorText ?? '';
  }

  // Typed `number[][]` upstream; the ids are bigint at run time.
  override _call(inputIds: number[][]): boolean[] {
    const row = (inputIds[0] ?? []) as unknown as bigint[];
    const generated = row.slice(this.promptLength);
    this.ids = generated.map(Number);
    this.tokens = generated.length;
    if (this.tokens === 1) this.firstTokenMs = performance.now() - this.started;
    this.previous = this.text;
    this.text = this.tokenizer.decode(generated, { skip_special_tokens: true });
    // The token that closes the reasoning is the first one of the answer, not of the trace.
    if (this.reasoningTokens === undefined && this.options.reasoningClosed?.(this.prior + this.text)) {
      this.reasoningTokens = this.tokens - 1;
    }
    let stop = false;
    if (this.options.isComplete(this.prior + this.text)) {
      this.completeMs ??= performance.now() - this.started;
      this.text = this.shortestComplete();
      this.stopReason = 'complete';
      stop = true;
    } else if (this.options.shouldStop()) {
      this.stopReason = 'aborted';
      stop = true;
    } else if (this.isEos(generated.at(-1))) {
      this.stopReason = 'eos';
    }
    this.stream();
    return [stop];
  }

  result(): Pick<Generation, 'text' | 'ids' | 'tokens' | 'stopReason' | 'firstTokenMs' | 'completeMs' | 'reasoningTokens'> {
    this.stream(true);
    const reasoningTokens = this.options.reasoningClosed ? (this.reasoningTokens ?? this.tokens) : undefined;
    return {
      ...(reasoningTokens === undefined ? {} : { reasoningTokens }),
      text: this.text,
      ids: this.ids,
      tokens: this.tokens,
      stopReason: this.stopReason,
      firstTokenMs: this.firstTokenMs,
      ...(this.completeMs === undefined ? {} : { completeMs: this.completeMs }),
    };
  }

  /**
   * The last token may carry characters past the end of the answer (`</judge>\n`): cut the
   * text at the shortest prefix that is already complete.
   */
  private shortestComplete(): string {
    for (let end = this.previous.length + 1; end < this.text.length; end++) {
      const candidate = this.text.slice(0, end);
      if (this.options.isComplete(this.prior + candidate)) return candidate;
    }
    return this.text;
  }

  private stream(final = false): void {
    // A trailing U+FFFD is usually half of a character whose next byte is still to come.
    const end = !final && this.text.endsWith('\uFFFD') ? this.text.length - 1 : this.text.length;
    if (end > this.emitted) {
      this.options.onText?.(this.text.slice(this.emitted, end));
      this.emitted = end;
    }
  }

  private isEos(id: bigint | undefined): boolean {
    const eos = (this.tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
    return id !== undefined && eos !== undefined && BigInt(eos) === id;
  }
}

function idTensor(ids: readonly number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
}

function maskTensor(length: number): Tensor {
  return new Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]);
}

/**
 * Lets the event loop run before every forward pass. On wasm a decode step can finish without
 * ever leaving the microtask queue, so `abort()` calls, crash probes and other messages would
 * wait for the whole generation. A macrotask between steps lets them in.
 */
function yieldBeforeEachStep(model: PreTrainedModel): void {
  const forward = model.forward.bind(model);
  model.forward = async (inputs: Record<string, unknown>) => {
    await nextMacrotask();
    return forward(inputs);
  };
}

/** Resolves after pending messages and timers had their turn (faster than a clamped setTimeout). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
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
