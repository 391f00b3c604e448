/**
 * One loaded model: tokenizer and ONNX session through transformers.js, and greedy generation
 * that streams text, stops when the answer is complete and stops between decode steps on
 * request. Everything here is the same in a browser worker and in Node.
 */
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  StoppingCriteria,
  Tensor,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import { ModelLoadError } from '../src/errors.js';
import type { ResolvedSource } from './model-source.js';
import type { Device, Dtype, ProgressEvent } from './protocol.js';

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
}

/** The text generated, and how it ended. */
export interface Generation {
  text: string;
  tokens: number;
  stopReason: StopReason;
  /** Milliseconds from the call to the first generated token. */
  firstTokenMs: number;
  /** Milliseconds from the call to the moment `isComplete` first held. */
  completeMs?: number;
}

/** A loaded tokenizer + model pair. */
export class ModelSession {
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

  /** Greedy generation after `ids` (the whole model input, already encoded). */
  async generate(ids: readonly number[], options: GenerateOptions): Promise<Generation> {
    const started = performance.now();
    const criterion = new AnswerCriterion(this.tokenizer, ids.length, options, started);
    const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    await this.model.generate({
      inputs: input_ids,
      attention_mask,
      max_new_tokens: options.maxNewTokens,
      do_sample: false,
      stopping_criteria: [criterion],
    });
    return criterion.result();
  }

  /** Frees the ONNX session (and its GPU buffers). */
  async dispose(): Promise<void> {
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
  private emitted = 0;
  private tokens = 0;
  private stopReason: StopReason = 'limit';
  private firstTokenMs = 0;
  private completeMs: number | undefined;

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly promptLength: number,
    private readonly options: GenerateOptions,
    private readonly started: number,
  ) {
    super();
  }

  // Typed `number[][]` upstream; the ids are bigint at run time.
  override _call(inputIds: number[][]): boolean[] {
    const row = (inputIds[0] ?? []) as unknown as bigint[];
    const generated = row.slice(this.promptLength);
    this.tokens = generated.length;
    if (this.tokens === 1) this.firstTokenMs = performance.now() - this.started;
    this.text = this.tokenizer.decode(generated, { skip_special_tokens: true });
    this.stream();
    const last = generated.at(-1);
    const eos = last !== undefined && this.isEos(last);
    let stop = false;
    if (this.options.shouldStop()) {
      this.stopReason = 'aborted';
      stop = true;
    } else if (this.options.isComplete(this.text)) {
      this.completeMs ??= performance.now() - this.started;
      this.stopReason = 'complete';
      stop = true;
    } else if (eos) {
      this.stopReason = 'eos';
    }
    return [stop];
  }

  result(): Generation {
    this.stream(true);
    return {
      text: this.text,
      tokens: this.tokens,
      stopReason: this.stopReason,
      firstTokenMs: this.firstTokenMs,
      ...(this.completeMs === undefined ? {} : { completeMs: this.completeMs }),
    };
  }

  private stream(final = false): void {
    // A trailing U+FFFD is usually half of a character whose next byte is still to come.
    const end = !final && this.text.endsWith('\uFFFD') ? this.text.length - 1 : this.text.length;
    if (end > this.emitted) {
      this.options.onText?.(this.text.slice(this.emitted, end));
      this.emitted = end;
    }
  }

  private isEos(id: bigint): boolean {
    const eos = (this.tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
    return eos !== undefined && BigInt(eos) === id;
  }
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
