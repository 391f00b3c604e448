/**
 * Forward passes of a causal LM, fed the way transformers.js' own `generate()` feeds them
 * (through `model.forward()`, so its session helpers pick the inputs, add `use_cache_branch`
 * and size an empty first-step cache from the session's metadata), but with the KV cache and
 * the logits under our control:
 *
 * - a prompt is prefilled in chunks through the KV cache, because real exports have no
 *   `num_logits_to_keep` input and return logits for every position they are fed (~0.3 MB a
 *   token for Qwen3 q4f16): only one chunk's logits ever exist, and only the last row is kept;
 * - past keys and values are plain tensors that we own or borrow: a borrowed state (the cached
 *   instruction, resident in GPU buffers on WebGPU) is fed to any number of runs and never
 *   disposed here, since onnxruntime only reads its inputs;
 * - a side pass from a state (the other verdict word's tokens) leaves that state usable.
 */
import { Tensor, type PreTrainedModel } from '@huggingface/transformers';

/** Keys and values of the tokens seen so far, as the session's `past_key_values.*` inputs. */
export interface KvState {
  readonly tensors: Readonly<Record<string, Tensor>>;
  /** Tokens the state covers. */
  readonly length: number;
  /** Borrowed (the instruction cache): fed as is, never disposed by the decoder. */
  readonly borrowed: boolean;
}

/** Work done for one call: what `verdict.timings` reports, counted rather than timed. */
export interface Meter {
  /** Session runs. */
  passes: number;
  /** Tokens fed through the model. */
  tokens: number;
}

/** The last position's logits after a run, and the state that includes the tokens fed. */
export interface Step {
  logits: Float32Array;
  state: KvState;
  /**
   * The id of the largest logit (the first on a tie, as transformers.js' greedy sampler),
   * found by the decoder (on float16 bits it needs no float32 copy of the row at all).
   */
  best?: number;
}

/**
 * Memory one prefill chunk may take for its logits and its attention scores. A chunk of the
 * real Qwen3 q4f16 export is then ~400 tokens at the start of a prompt and shrinks as the
 * past grows; a short prompt is one chunk.
 */
const CHUNK_BUDGET_BYTES = 128 * 2 ** 20;
/** Bounds on a chunk: more runs cost little, but a run per token would. */
const MIN_CHUNK = 32;
const MAX_CHUNK = 512;

/** One loaded model's forward passes. */
export class Decoder {
  /** Every id that ends generation: the tokenizer's, config.json's and generation_config's. */
  readonly endTokens: ReadonlySet<number>;
  private readonly keepsLogits: boolean;
  private readonly vocab: number;
  private readonly heads: number;
  private readonly logitBytes: number;

  constructor(
    private readonly model: PreTrainedModel,
    tokenizerEos: number | undefined,
  ) {
    const session = sessionOf(model);
    this.keepsLogits = session.inputNames.includes('num_logits_to_keep');
    const config = model.config as unknown as Record<string, unknown>;
    this.vocab = numberOr(config['vocab_size'], 0);
    this.heads = numberOr(config['num_attention_heads'], 1);
    const logitsType = session.outputMetadata?.find((m) => m.name === 'logits')?.type;
    this.logitBytes = logitsType === 'float16' ? 2 : 4;
    const generation = (model as unknown as { generation_config?: { eos_token_id?: unknown } }).generation_config;
    this.endTokens = new Set([...idList(tokenizerEos), ...idList(config['eos_token_id']), ...idList(generation?.eos_token_id)]);
  }

  /**
   * Feeds `ids` after `past` (none: an empty cache) in chunks and returns the logits of the
   * last position. A state passed in that is not borrowed is disposed once it is superseded.
   * Undefined when `shouldStop` said so between two chunks (the state reached is disposed).
   */
  async prefill(ids: readonly number[], past: KvState | undefined, meter: Meter, shouldStop?: () => boolean): Promise<Step | undefined> {
    if (ids.length === 0) throw new RangeError('prefill needs at least one token');
    let state = past;
    for (let at = 0; at < ids.length; ) {
      if (at > 0 && shouldStop?.()) {
        await this.release(state);
        return undefined;
      }
      const size = this.chunkSize(state?.length ?? 0, ids.length - at);
      const { logits, next } = await this.run(ids.slice(at, at + size), state, 1, meter);
      at += size;
      await this.release(state);
      state = next;
      // Every other row of the chunk's logits is dropped with `logits` itself.
      if (at >= ids.length) return stepOf(rowOf(logits, logits.dims.at(-2)! - 1), state);
    }
    throw new Error('unreachable');
  }

  /** One decode step: `id` after `past`, which is disposed here unless borrowed. */
  async step(id: number, past: KvState, meter: Meter): Promise<Step> {
    const { logits, next } = await this.run([id], past, 1, meter);
    await this.release(past);
    return stepOf(rowOf(logits, 0), next);
  }

  /**
   * The logits after each of `ids` fed after `past`, which stays usable: the state this pass
   * reaches is freed at once. For the verdict words the model does not write.
   */
  async sidePass(ids: readonly number[], past: KvState, meter: Meter): Promise<Float32Array[]> {
    const { logits, next } = await this.run(ids, past, ids.length, meter);
    await this.release(next);
    const rows = logits.dims.at(-2)!;
    return ids.map((_, i) => rowOf(logits, rows - ids.length + i).read());
  }

  /** Frees a state's GPU buffers, unless it is borrowed (CPU arrays are left to the GC). */
  async release(state: KvState | undefined): Promise<void> {
    if (!state || state.borrowed) return;
    await Promise.all(Object.values(state.tensors).map((t) => (t.location === 'gpu-buffer' ? t.dispose() : undefined)));
  }

  private async run(ids: readonly number[], past: KvState | undefined, keep: number, meter: Meter): Promise<{ logits: Tensor; next: KvState }> {
    await nextMacrotask();
    const pastLength = past?.length ?? 0;
    const total = pastLength + ids.length;
    const inputs: Record<string, unknown> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(pastLength + i)), [1, ids.length]),
      // transformers.js' helpers fill an empty cache from the session metadata when this is absent.
      ...(past ? { past_key_values: past.tensors } : {}),
      ...(this.keepsLogits ? { num_logits_to_keep: new Tensor('int64', [BigInt(keep)], []) } : {}),
    };
    const outputs = (await this.model.forward(inputs)) as Record<string, Tensor>;
    meter.passes += 1;
    meter.tokens += ids.length;
    const tensors: Record<string, Tensor> = {};
    for (const [name, tensor] of Object.entries(outputs)) {
      if (name.startsWith('present')) tensors[name.replace('present', 'past_key_values')] = tensor;
    }
    const logits = outputs['logits'];
    if (!logits) throw new Error('the model returned no logits');
    return { logits, next: { tensors, length: total, borrowed: false } };
  }

  /**
   * Tokens in the next prefill chunk: as many as fit the budget for their logits (none with
   * `num_logits_to_keep`, which keeps one row) and their attention scores over the whole past.
   */
  private chunkSize(pastLength: number, remaining: number): number {
    const logitBytes = this.keepsLogits ? 0 : this.vocab * this.logitBytes;
    const perToken = logitBytes + this.heads * 4 * (pastLength + MAX_CHUNK);
    const fit = Math.max(MIN_CHUNK, Math.floor(CHUNK_BUDGET_BYTES / Math.max(1, perToken)));
    return Math.min(remaining, MAX_CHUNK, fit);
  }
}

/** The decoder session (transformers.js names it `model` for causal LMs). */
function sessionOf(model: PreTrainedModel): { inputNames: string[]; outputMetadata?: { name: string; type?: string }[] } {
  const sessions = (model as unknown as { sessions: Record<string, { inputNames: string[]; outputMetadata?: { name: string; type?: string }[] }> }).sessions;
  const session = sessions['model'] ?? sessions['decoder_model_merged'];
  if (!session) throw new Error('the model has no decoder session');
  return session;
}

/** One row of logits: its argmax, and its values as float32 when they are asked for. */
interface Row {
  best: number;
  read: () => Float32Array;
}

/** A step whose logits are converted on first use (most decode steps only need the argmax). */
function stepOf(row: Row, state: KvState): Step {
  let logits: Float32Array | undefined;
  return {
    state,
    best: row.best,
    get logits() {
      return (logits ??= row.read());
    },
  };
}

/**
 * Row `row` of `[1, rows, vocab]` logits and its argmax. This runs once per token over the
 * whole vocabulary (152k for Qwen3), so it does the least it can: a decode step's single
 * float32 row is used in place, and a single float16 row's argmax is found on its bits, the
 * float32 values made only if someone reads them; a row of a chunk is copied out at once,
 * so that the rest of the chunk's logits can be freed.
 */
function rowOf(logits: Tensor, row: number): Row {
  const vocab = logits.dims.at(-1)!;
  const rows = logits.data.length / vocab;
  const start = row * vocab;
  if (logits.type !== 'float32' && logits.type !== 'float16') throw new Error(`logits of type ${logits.type} are not supported`);
  if (logits.type === 'float16' && logits.data instanceof Uint16Array) {
    const bits = rows === 1 ? logits.data : logits.data.slice(start, start + vocab);
    return { best: halfArgmax(bits), read: () => halfToFloat(bits) };
  }
  // float32, or float16 values where the runtime has a Float16Array.
  const data = logits.data as unknown as Float32Array;
  const out = rows === 1 && logits.type === 'float32' ? data : Float32Array.from(data.subarray(start, start + vocab));
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) {
    if (out[i]! > max) {
      max = out[i]!;
      best = i;
    }
  }
  return { best, read: () => out };
}

/**
 * The argmax of float16 values, on their bits: mapped to integers in the order of the values
 * (negative ones reversed, -0 as +0), NaN never chosen, the first of equal values kept.
 */
function halfArgmax(bits: Uint16Array): number {
  let best = 0;
  let max = -1;
  for (let i = 0; i < bits.length; i++) {
    const raw = bits[i]!;
    const magnitude = raw & 0x7fff;
    if (magnitude > 0x7c00) continue; // NaN
    const key = raw & 0x8000 ? 0x8000 - magnitude : 0x8000 + magnitude;
    if (key > max) {
      max = key;
      best = i;
    }
  }
  return best;
}

/** float16 bits as float32 values. */
function halfToFloat(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

let halfValues: Float32Array | undefined;

/** The float32 value of every float16 bit pattern (256 KB, built once). */
function halfTable(): Float32Array {
  if (halfValues) return halfValues;
  halfValues = new Float32Array(65_536);
  for (let bits = 0; bits < 65_536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    halfValues[bits] =
      exponent === 0
        ? sign * 2 ** -14 * (fraction / 1024)
        : exponent === 0x1f
          ? fraction === 0 ? sign * Infinity : Number.NaN
          : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return halfValues;
}

function idList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * Resolves after pending messages and timers had their turn (faster than a clamped
 * setTimeout). On wasm a forward pass can finish without ever leaving the microtask queue, so
 * `abort()` calls, crash probes and other messages would wait for the whole generation.
 */
export function nextMacrotask(): Promise<void> {
  // Node's own macrotask is much cheaper than a MessageChannel per pass (one a token).
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}
