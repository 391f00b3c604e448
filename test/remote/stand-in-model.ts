/**
 * The stand-in's model side: a twin from models/fixtures/ loaded through raw transformers.js
 * (not lingoguard's worker/, so the stand-in cannot agree with our runtime by construction),
 * greedy decoding over its own KV-cache loop, and log-softmax in float64 for logprobs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';

const FIXTURES = fileURLToPath(new URL('../../models/fixtures/', import.meta.url));

/** What a server can say of one prompt position: its token's logprob, the likeliest ids, ranks. */
export interface Scores {
  logprob(id: number): number;
  /** The `n` likeliest ids with their logprobs, likeliest first (ties: lowest id first). */
  top(n: number): [id: number, logprob: number][];
  /** 1 + how many ids are strictly likelier (vLLM's `rank`). */
  rank(id: number): number;
}

/** The most top logprobs a request may ask for (vLLM's default `--max-logprobs`). */
export const MAX_LOGPROBS = 20;

/**
 * One position's next-token distribution over the whole vocabulary, log-softmax in float64.
 * Indexed loops over the typed array: at 128k-150k ids a position, iterator loops were most of
 * an echo request's time.
 */
export class Distribution implements Scores {
  readonly #logits: Float32Array;
  #logNorm: number | undefined;
  #argmax = 0;

  constructor(logits: Float32Array) {
    this.#logits = logits;
  }

  /** The max, the argmax and log Σ exp(logit), the max subtracted first so that nothing overflows. */
  #scan(): void {
    const logits = this.#logits;
    let max = -Infinity;
    let best = 0;
    for (let i = 0; i < logits.length; i++) {
      const x = logits[i] as number;
      if (x > max) {
        max = x;
        best = i; // strict: ties go to the lowest id, as torch.argmax does
      }
    }
    this.#argmax = best;
    this.#logNorm = logSumExp(logits, max);
  }

  get logNorm(): number {
    if (this.#logNorm === undefined) this.#scan();
    return this.#logNorm as number;
  }

  /** The greedy choice. */
  get argmax(): number {
    if (this.#logNorm === undefined) this.#scan();
    return this.#argmax;
  }

  logprob(id: number): number {
    return (this.#logits[id] as number) - this.logNorm;
  }

  top(n: number): [id: number, logprob: number][] {
    return topIds(this.#logits, n).map((id) => [id, this.logprob(id)]);
  }

  rank(id: number): number {
    const logits = this.#logits;
    const x = logits[id] as number;
    let above = 0;
    for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > x) above++;
    return above + 1;
  }

  /**
   * What later prompts may need of this position, where the prompt goes on with `next`: the
   * log-norm, then top ids and rank in one pass, since an echo summarizes every prompt position.
   */
  summary(next: number): PositionSummary {
    const logits = this.#logits;
    const x0 = logits[next] as number;
    const ids: number[] = [];
    const values: number[] = [];
    let floor = -Infinity;
    let above = 0;
    for (let i = 0; i < logits.length; i++) {
      const x = logits[i] as number;
      if (x > x0) above++;
      if (ids.length === MAX_LOGPROBS && x <= floor) continue;
      insert(ids, values, i, x, MAX_LOGPROBS);
      if (ids.length === MAX_LOGPROBS) floor = values[MAX_LOGPROBS - 1] as number;
    }
    const logNorm = this.logNorm;
    return new PositionSummary(next, x0 - logNorm, above + 1, ids.map((id, k) => [id, (values[k] as number) - logNorm]), logNorm);
  }
}

/**
 * Terms this far below the max are left out of Σ exp: each is under e^-64 of the max's, so all
 * of a vocabulary together stay far below float64's rounding of a sum that is at least 1, and
 * the exp of most of a twin's logits (all but ~100 of 150k lie this low) is never computed.
 */
const NEGLIGIBLE = -64;

/** log Σ exp(x) over `logits`, given their max. */
function logSumExp(logits: Float32Array, max: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const d = (logits[i] as number) - max;
    if (d > NEGLIGIBLE) sum += Math.exp(d);
  }
  return max + Math.log(sum);
}

/** Inserts id `i` of value `x` into the descending lists, after equal values (ties: lowest id first), keeping at most `n`. */
function insert(ids: number[], values: number[], i: number, x: number, n: number): void {
  let at = ids.length;
  while (at > 0 && x > (values[at - 1] as number)) at--;
  ids.splice(at, 0, i);
  values.splice(at, 0, x);
  if (ids.length > n) {
    ids.pop();
    values.pop();
  }
}

/** The `n` likeliest ids, likeliest first, ties to the lowest id (an insertion list behind a threshold). */
function topIds(logits: Float32Array, n: number): number[] {
  const ids: number[] = [];
  const values: number[] = [];
  if (n <= 0) return ids;
  let floor = -Infinity; // the n-th value once n are held
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i] as number;
    if (ids.length === n && x <= floor) continue;
    insert(ids, values, i, x, n);
    if (ids.length === n) floor = values[n - 1] as number;
  }
  return ids;
}

/**
 * A prompt position as a later prompt sharing it needs it: the logprob and rank of the token the
 * prompt goes on with, and the top {@link MAX_LOGPROBS}; nothing else is asked of a prompt
 * position (echo, prompt_logprobs), so nothing else is kept.
 */
export class PositionSummary implements Scores {
  constructor(
    readonly next: number,
    readonly nextLogprob: number,
    readonly nextRank: number,
    readonly best: readonly [id: number, logprob: number][],
    readonly logNorm: number,
  ) {}

  logprob(id: number): number {
    if (id === this.next) return this.nextLogprob;
    const hit = this.best.find(([t]) => t === id);
    if (!hit) throw new Error(`stand-in: position summary asked for id ${id}, neither its token nor in its top ${MAX_LOGPROBS}`);
    return hit[1];
  }

  top(n: number): [id: number, logprob: number][] {
    if (n > this.best.length) throw new Error(`stand-in: top ${n} asked of a position that keeps ${this.best.length}`);
    return this.best.slice(0, n).map(([id, lp]) => [id, lp]);
  }

  rank(id: number): number {
    if (id === this.next) return this.nextRank;
    const lp = this.logprob(id);
    // Every id strictly likelier than one in the top list is in the list, before it.
    return 1 + this.best.filter(([, other]) => other > lp).length;
  }
}

/** A request's decoding state: the ids so far and the model's KV cache. */
interface Cache {
  length: number;
  past: Record<string, Tensor> | undefined;
}

/** A loaded twin: its tokenizer, end tokens, and a forward pass one request at a time. */
export interface Twin {
  id: string;
  vocabSize: number;
  maxModelLen: number;
  /** The tokenizer's eos (vLLM reports `stop_reason: null` for it). */
  eosId: number;
  /** generation_config.json's `eos_token_id`s, which vLLM adds to every request's stop ids. */
  endIds: readonly number[];
  tokenizer: PreTrainedTokenizer;
  /**
   * The prompt's forward: the last position's distribution, and (`all`) what each earlier
   * position says of the token after it (`prompt[i]` is position i's, of `ids[i + 1]`).
   */
  prefill(ids: readonly number[], all: boolean): Promise<{ cache: Cache; last: Distribution; prompt: Scores[] | undefined }>;
  /** Feeds one token and returns the next distribution. */
  step(cache: Cache, id: number): Promise<Distribution>;
  /**
   * One forward of the whole of `ids`, with no KV cache (none read, none kept): each position's
   * distribution from `from` on, as a reference for the cached loops in tests.
   */
  forwardUncached(ids: readonly number[], from: number): Promise<Distribution[]>;
  dispose(): Promise<void>;
}

/** A prompt's KV cache, kept for later prompts that start alike, and its positions' summaries when they were computed. */
interface Prefix {
  ids: readonly number[];
  past: Record<string, Tensor>;
  /** `summaries[i]`: position i, of `ids[i + 1]` (every position but the last). */
  summaries: readonly PositionSummary[] | undefined;
}
const PREFIXES_KEPT = 32;

/**
 * The cached prompt sharing the most leading ids with `ids` (at most all but one: a forward
 * needs an input), among those with summaries when `summarized`.
 */
function longestPrefix(prefixes: Prefix[], ids: readonly number[], summarized: boolean): { prefix: Prefix; length: number } | undefined {
  let best: { prefix: Prefix; length: number } | undefined;
  for (const prefix of prefixes) {
    if (summarized && !prefix.summaries) continue;
    let n = 0;
    const limit = Math.min(prefix.ids.length, ids.length - 1);
    while (n < limit && prefix.ids[n] === ids[n]) n++;
    if (n > 0 && n > (best?.length ?? 0)) best = { prefix, length: n };
  }
  return best;
}

function remember(prefixes: Prefix[], ids: readonly number[], past: Record<string, Tensor>, summaries: readonly PositionSummary[] | undefined): void {
  prefixes.unshift({ ids: [...ids], past, summaries });
  if (prefixes.length > PREFIXES_KEPT) prefixes.pop();
}

/** The first `length` positions of a KV cache ([batch, heads, positions, head_dim] tensors, copied). */
function slicePast(past: Record<string, Tensor>, length: number): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(past).map(([name, t]) => [name, t.dims[2] === length ? t : t.slice(null, null, [0, length], null)]));
}

const int64 = (values: readonly number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);

/** Loads a twin (fp32, CPU) from models/fixtures/. */
export async function loadTwin(id: string): Promise<Twin> {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = FIXTURES;
  const dir = `${FIXTURES}${id}/`;
  const config = JSON.parse(readFileSync(`${dir}config.json`, 'utf8')) as { vocab_size: number; max_position_embeddings: number };
  const generation = JSON.parse(readFileSync(`${dir}generation_config.json`, 'utf8')) as { eos_token_id?: number | number[] };
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model: PreTrainedModel = await AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', device: 'cpu' });
  const vocab = config.vocab_size;
  // One forward at a time, as one engine replica computes; concurrent requests interleave by step.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run);
    queue = next.catch(() => undefined);
    return next;
  };
  const forward = (cache: Cache, ids: readonly number[]) =>
    serial(async () => {
      const positions = ids.map((_, i) => cache.length + i);
      const out = (await model({
        input_ids: int64(ids),
        attention_mask: int64(new Array<number>(cache.length + ids.length).fill(1)),
        position_ids: int64(positions),
        ...(cache.past ? { past_key_values: cache.past } : {}),
      })) as Record<string, Tensor> & { logits: Tensor };
      const past: Record<string, Tensor> = {};
      for (const [name, tensor] of Object.entries(out)) if (name.startsWith('present')) past[name.replace('present', 'past_key_values')] = tensor;
      cache.past = past;
      cache.length += ids.length;
      return out.logits.data as Float32Array;
    });
  const eos = generation.eos_token_id;
  const prefixes: Prefix[] = [];
  return {
    id,
    vocabSize: vocab,
    maxModelLen: config.max_position_embeddings,
    eosId: (tokenizer as unknown as { eos_token_id: number }).eos_token_id,
    endIds: eos === undefined ? [] : Array.isArray(eos) ? eos : [eos],
    tokenizer,
    async prefill(ids, all) {
      // Reuse the longest cached prefix, as vLLM does: the graph computes logits for every
      // position it is fed, and over a 128k-150k vocabulary that, not attention, is what a
      // guard prompt costs here. When every position is wanted (echo, prompt_logprobs), the
      // shared positions' summaries are reused too, all but the last shared one: what it says
      // of the token after it is recomputed, since that token may differ.
      const found = longestPrefix(prefixes, ids, all);
      const reused = all ? Math.max(0, (found?.length ?? 0) - 1) : (found?.length ?? 0);
      const cache: Cache = found && reused > 0 ? { length: reused, past: slicePast(found.prefix.past, reused) } : { length: 0, past: undefined };
      const start = cache.length; // forward moves cache.length on
      const fed = ids.length - start;
      const logits = await forward(cache, ids.slice(start));
      // Row r of the logits is position start + r.
      const row = (r: number) => logits.subarray(r * vocab, (r + 1) * vocab);
      // A copy of the last row: a view would hold the whole [fed, vocab] buffer alive.
      const last = new Distribution(logits.slice((fed - 1) * vocab, fed * vocab));
      let summaries: PositionSummary[] | undefined;
      if (all) {
        summaries = (found?.prefix.summaries ?? []).slice(0, start);
        for (let r = 0; r < fed - 1; r++) summaries.push(new Distribution(row(r)).summary(ids[start + r + 1] as number));
      }
      remember(prefixes, ids, cache.past as Record<string, Tensor>, summaries);
      return { cache, last, prompt: summaries };
    },
    async step(cache, id) {
      return new Distribution(await forward(cache, [id]));
    },
    async forwardUncached(ids, from) {
      const logits = await forward({ length: 0, past: undefined }, ids);
      return ids.slice(from).map((_, k) => new Distribution(logits.subarray((from + k) * vocab, (from + k + 1) * vocab)));
    },
    dispose: async () => void (await model.dispose()),
  };
}
