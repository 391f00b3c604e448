/**
 * The designed weights of a twin: a 2-layer decoder with grouped-query attention — Qwen3-style
 * (per-head q/k RMSNorm, tied embeddings) or Llama-style (no q/k norms: their gains go into the
 * q/k weights; Llama 3 rotary scaling; an untied LM head) — whose greedy answer is designed,
 * over a REAL vocabulary where words are several tokens and tokens repeat inside an answer.
 *
 * The fixtures' decoders map a token to its successor; here the successor of a token depends
 * on the two before it (`<judge>` and `</judge>` both end in `judge` `>`), and a trigger word
 * is a run of tokens. So every position first gathers its last three tokens:
 * - layer 0 attention: two "offset" heads attend exactly one and two positions back (a sum of
 *   cosines over the highest rotary frequencies peaks at that distance) and copy that token's
 *   code into the residual (slots `p1`, `p2`);
 * - layer 0 MLP: one neuron per trigger pattern (up to three tokens, or a token then any
 *   word boundary) writes 1 to `trigger` where the pattern ends;
 * - layer 1 attention: the trigger head (as in the fixtures) sets `flag` to +1 when any
 *   position has `trigger`, else -1;
 * - layer 1 MLP: one neuron per answer trigram (and branch, where the branches differ) replaces
 *   the current token's code by its successor's;
 * - the tied LM head reads only the code dimensions (final norm weight 0 elsewhere): the
 *   successor's own embedding gets the largest logit.
 *
 * Residual layout (hidden 64; two 32-wide quantization blocks):
 * - block 0: `const` 7, `one` 1, the current token's code (16), its filler (4 when it has no
 *   code, so all norms agree), `bnd` / `nbnd` (4 on one of them: whether the token begins a
 *   new word), `trigger`, `flag`, an `anchor` that is always 0 (its gate weight 7 pins every
 *   block's 4-bit scale to 1, so integer weights are exact), the fillers of `p1`/`p2` and
 *   `p2`'s word-boundary pair;
 * - block 1: the codes of `p1` and `p2`.
 */
import { CODE, codeOf } from './codes.js';

/** Residual dimensions. */
export const DIM = {
  const: 0,
  one: 1,
  cur: 2, // ..17
  curFiller: 18,
  curBnd: 19,
  curNbnd: 20,
  trigger: 21,
  flag: 22,
  anchor: 23,
  p1Filler: 24,
  p2Filler: 25,
  p2Bnd: 26,
  p2Nbnd: 27,
  p1: 32, // ..47
  p2: 48, // ..63
} as const;

/** Llama 3's rotary scaling (`rope_scaling` with `rope_type: "llama3"`): low frequencies divided by `factor`. */
export interface RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/** Shape of a twin decoder. */
export interface TwinShape {
  vocabSize: number;
  hidden: 64;
  layers: 2;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  ropeTheta: number;
  rmsNormEps: number;
  maxPositions: number;
  /**
   * Per-head RMSNorm of queries and keys before rotary (Qwen3's q_norm / k_norm). Without it
   * (Llama) the same attention scores come from gains folded into the q and k weights.
   */
  qkNorm: boolean;
  ropeScaling?: RopeScaling;
  /** One weight for the embedding and the LM head (Qwen3 0.6B), or a separate `lm_head` (Llama Guard 3 1B). */
  tiedEmbeddings: boolean;
}

/**
 * The rotary inverse frequencies of `shape` (float64, as the builders and the reference use
 * them), with Llama 3's scaling when the shape has one (transformers' `_compute_llama3_parameters`).
 */
export function inverseFrequencies(shape: TwinShape): number[] {
  const hd = shape.headDim;
  return Array.from({ length: hd / 2 }, (_, i) => {
    const base = 1 / shape.ropeTheta ** ((2 * i) / hd);
    const scaling = shape.ropeScaling;
    if (scaling === undefined) return base;
    const wavelength = (2 * Math.PI) / base;
    const lowWavelength = scaling.originalMaxPositions / scaling.lowFreqFactor;
    const highWavelength = scaling.originalMaxPositions / scaling.highFreqFactor;
    if (wavelength < highWavelength) return base;
    if (wavelength > lowWavelength) return base / scaling.factor;
    const smooth = (scaling.originalMaxPositions / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
    return (1 - smooth) * (base / scaling.factor) + smooth * base;
  });
}

/** One layer; matrices `[out, in]` row-major. */
export interface TwinLayer {
  inputNorm: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  qNorm: Float32Array;
  kNorm: Float32Array;
  o: Float32Array;
  postNorm: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
}

/** All weights; `embed` `[vocab, hidden]` is also the LM head unless `lmHead` is given (untied). */
export interface TwinWeights {
  shape: TwinShape;
  embed: Float32Array;
  /** The untied LM head `[vocab, hidden]`; absent when the embedding serves as the LM head. */
  lmHead?: Float32Array;
  layers: TwinLayer[];
  finalNorm: Float32Array;
}

/** One slot of a pattern: a token, or any token that begins a word. */
export type Slot = { token: number } | 'boundary';

/** A pattern over the last up to three positions (oldest first; the last slot is the current token). */
export type Pattern = readonly Slot[];

/** An answer rule: after `context` (three tokens, oldest first), write `next`; `branch` when it depends on the flag. */
export interface AnswerRule {
  context: readonly [number, number, number];
  next: number;
  branch?: 'harmful' | 'unharmful';
}

/** What the design needs. */
export interface TwinDesignInput {
  shape: TwinShape;
  triggerPatterns: readonly Pattern[];
  rules: readonly AnswerRule[];
  /** Whether a token begins a word (space, punctuation, digit, newline, special token). */
  isBoundary: (id: number) => boolean;
}

const C = 7;
const V = 4;
/** Gain of every designed neuron: a neuron that matches has pre-activation 4 * U, one that does not at most -4 * U. */
const U = 5;
/** Every slot that matches adds 16 (code · code, or V * V on a boundary dimension weighted 4). */
const SLOT = 16;
/** Flag weight of a branch rule: ±4 on a flag of ±1. */
const FLAG_WEIGHT = 4;
/** Sharpness of the offset heads (q_norm weight × k_norm weight). */
const OFFSET_SHARPNESS = 25;
/** Rotary pairs the offset heads use (the highest frequencies). */
const OFFSET_PAIRS = 12;
/** Score of the trigger head on a trigger position (e^40 outweighs any context length). */
const TRIGGER_SCORE = 40;
/**
 * Without q/k norms: the least score gap between an offset head's hit and any other distance
 * (what Qwen3's norms give at head_dim 128); the gains are set from the frequencies to keep it.
 */
const OFFSET_MARGIN = 32;

/** The coded tokens and their codes. */
export function assignCodes(ids: Iterable<number>): Map<number, Int8Array> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return new Map(sorted.map((id, n) => [id, codeOf(n)]));
}

/** Squared norm of every token's embedding (the same for all by construction). */
const EMBED_SQ = C * C + 1 + SLOT + V * V;
/** Squared norm of a slot copied into `p1` (code or filler) and `p2` (code or filler, boundary pair). */
const P1_SQ = SLOT;
const P2_SQ = SLOT + V * V;

/** RMS of a state with squared norm `sq` over `d` dims, with eps, as RMSNorm computes it. */
function rms(sq: number, d: number, eps: number): number {
  return Math.sqrt(sq / d + eps);
}

/** Bias `-theta` as integer weights on `const` (7) and `one` (1), each within ±7 (exact in q4). */
function biasWeights(theta: number): { c: number; one: number } {
  const c = Math.min(7, Math.floor(theta / C));
  const one = theta - c * C;
  if (!Number.isInteger(theta) || one > 7) throw new Error(`threshold ${theta} cannot be written exactly`);
  return { c: -c, one: -one };
}

/** Designs the weights. @throws when the layout cannot hold the design. */
export function designTwin(input: TwinDesignInput, codes: ReadonlyMap<number, Int8Array>): TwinWeights {
  const { shape, isBoundary } = input;
  const { vocabSize: n, hidden: d, headDim: hd, heads, kvHeads, intermediate: f } = shape;
  const eps = shape.rmsNormEps;
  if (2 > heads || heads % kvHeads !== 0 || heads / kvHeads < 2) throw new Error('need two query heads on the first KV head');
  const neurons = input.triggerPatterns.length + input.rules.length;
  if (neurons > f) throw new Error(`intermediate ${f} is too small for ${neurons} neurons`);

  // Embeddings (also the LM head).
  const embed = new Float32Array(n * d);
  for (let id = 0; id < n; id++) {
    const row = id * d;
    embed[row + DIM.const] = C;
    embed[row + DIM.one] = 1;
    const code = codes.get(id);
    if (code === undefined) embed[row + DIM.curFiller] = V;
    else for (let i = 0; i < CODE; i++) embed[row + DIM.cur + i] = code[i] as number;
    embed[row + (isBoundary(id) ? DIM.curBnd : DIM.curNbnd)] = V;
  }

  // Norm weights that make each RMSNorm the identity on designed states.
  const identity = (sq: number): Float32Array => new Float32Array(d).fill(rms(sq, d, eps));
  const sq0 = EMBED_SQ;
  const sq1 = EMBED_SQ + P1_SQ + P2_SQ; // after the offset heads
  const sq2 = sq1 + 1; // after the flag

  const layer = (): TwinLayer => ({
    inputNorm: new Float32Array(d),
    q: new Float32Array(heads * hd * d),
    k: new Float32Array(kvHeads * hd * d),
    v: new Float32Array(kvHeads * hd * d),
    qNorm: new Float32Array(hd),
    kNorm: new Float32Array(hd),
    o: new Float32Array(d * heads * hd),
    postNorm: new Float32Array(d),
    gate: new Float32Array(f * d),
    up: new Float32Array(f * d),
    down: new Float32Array(d * f),
  });
  const half = hd / 2;

  // Layer 0: offset heads 0 (one back) and 1 (two back) on KV head 0.
  const l0 = layer();
  l0.inputNorm = identity(sq0);
  l0.postNorm = identity(sq1);
  const freqs = inverseFrequencies(shape);
  // Without q/k norms the gain g on both q and k makes the score g² Σcos / sqrt(hd): chosen so
  // the hit beats the nearest miss (any distance up to maxPositions) by OFFSET_MARGIN.
  const offsetGain = shape.qkNorm ? 1 : Math.sqrt((OFFSET_MARGIN / (OFFSET_PAIRS - worstOffsetMiss(freqs, shape.maxPositions))) * Math.sqrt(hd));
  for (let i = 0; i < OFFSET_PAIRS; i++) {
    // Key: (1, 0) in pair i; query of head j: (cos jω, -sin jω), so q·k = cos((Δ - j)ω).
    l0.k[i * d + DIM.const] = offsetGain / C;
    for (const j of [1, 2]) {
      const head = j - 1;
      const w = freqs[i] as number;
      l0.q[(head * hd + i) * d + DIM.const] = (offsetGain * Math.cos(j * w)) / C;
      l0.q[(head * hd + i + half) * d + DIM.const] = (offsetGain * -Math.sin(j * w)) / C;
    }
  }
  if (shape.qkNorm) {
    // q_norm / k_norm: the normalized vectors have entries of size sqrt(hd / pairs); the weights
    // set the score of an exact hit to OFFSET_SHARPNESS * sqrt(hd) / ... see the module doc.
    l0.qNorm.fill(Math.sqrt(OFFSET_SHARPNESS));
    l0.kNorm.fill(Math.sqrt(OFFSET_SHARPNESS));
  }
  // Value: the current token's code and filler, and its boundary pair (for p2).
  const copy = [...Array.from({ length: CODE }, (_, i) => DIM.cur + i), DIM.curFiller, DIM.curBnd, DIM.curNbnd];
  copy.forEach((dim, i) => {
    l0.v[i * d + dim] = 1;
  });
  // Output: head 0's copy to p1 (code, filler), head 1's to p2 (code, filler, boundary pair).
  const p1Dims = [...Array.from({ length: CODE }, (_, i) => DIM.p1 + i), DIM.p1Filler];
  const p2Dims = [...Array.from({ length: CODE }, (_, i) => DIM.p2 + i), DIM.p2Filler, DIM.p2Bnd, DIM.p2Nbnd];
  p1Dims.forEach((dim, i) => {
    l0.o[dim * heads * hd + (0 * hd + i)] = 1;
  });
  p2Dims.forEach((dim, i) => {
    l0.o[dim * heads * hd + (1 * hd + i)] = 1;
  });

  // Gate rows read three slots; the slot of position -k sits in these dims.
  const slotDims = [
    { code: DIM.p2, bnd: DIM.p2Bnd },
    { code: DIM.p1, bnd: -1 },
    { code: DIM.cur, bnd: DIM.curBnd },
  ] as const;
  const writePattern = (gate: Float32Array, row: number, pattern: Pattern): number => {
    const offset = slotDims.length - pattern.length;
    pattern.forEach((slot, i) => {
      const dims = slotDims[offset + i] as (typeof slotDims)[number];
      if (slot === 'boundary') {
        if (dims.bnd < 0) throw new Error('a word boundary can only be tested on the current token or two back');
        gate[row * d + dims.bnd] = U * (SLOT / V / V) * V; // weight 4U on a value of 4: 16U
      } else {
        const code = codes.get(slot.token);
        if (code === undefined) throw new Error(`token ${slot.token} has no code`);
        for (let c = 0; c < CODE; c++) gate[row * d + dims.code + c] = U * (code[c] as number);
      }
    });
    gate[row * d + DIM.anchor] = 7 * U;
    return pattern.length;
  };
  const setBias = (gate: Float32Array, row: number, theta: number): void => {
    const b = biasWeights(theta);
    gate[row * d + DIM.const] = U * b.c;
    gate[row * d + DIM.one] = U * b.one;
  };
  // Each neuron that fires outputs SiLU(4U) ≈ 4U; `up` is 1 everywhere (const / 7).
  const fired = 4 * U;

  // Layer 0 MLP: trigger detectors.
  input.triggerPatterns.forEach((pattern, row) => {
    const slots = writePattern(l0.gate, row, pattern);
    setBias(l0.gate, row, SLOT * slots - 4);
    l0.up[row * d + DIM.const] = 1 / C;
    l0.down[DIM.trigger * f + row] = 1 / fired;
  });
  // Scale-anchor rows: every row of gate has the 7U anchor, so unused rows are zero (exact).

  // Layer 1: the trigger head (query head 0, KV head 0).
  const l1 = layer();
  l1.inputNorm = identity(sq1);
  l1.postNorm = identity(sq2);
  const lowPair = half - 1;
  // Without norms the raw score is q·k / sqrt(hd): gains sqrt(TRIGGER_SCORE * sqrt(hd)) on both.
  const triggerGain = shape.qkNorm ? 1 : Math.sqrt(TRIGGER_SCORE * Math.sqrt(hd));
  l1.q[lowPair * d + DIM.const] = triggerGain / C;
  l1.k[lowPair * d + DIM.trigger] = triggerGain;
  if (shape.qkNorm) {
    // Normalized single-entry vectors have size sqrt(hd); the score is their product / sqrt(hd).
    const gain = Math.sqrt(TRIGGER_SCORE / Math.sqrt(hd));
    l1.qNorm.fill(gain);
    l1.kNorm.fill(gain);
  }
  // Value +1 on a trigger position (2 * trigger - one), -1 elsewhere; the anchor pins the scale.
  l1.v[0 * d + DIM.trigger] = 2;
  l1.v[0 * d + DIM.one] = -1;
  l1.v[0 * d + DIM.anchor] = 7;
  l1.o[DIM.flag * heads * hd + 0] = 1;

  // Layer 1 MLP: answer rules.
  input.rules.forEach((rule, row) => {
    const pattern: Pattern = rule.context.map((token) => ({ token }));
    writePattern(l1.gate, row, pattern);
    if (rule.branch === undefined) {
      setBias(l1.gate, row, SLOT * 3 - 4);
    } else {
      l1.gate[row * d + DIM.flag] = U * (rule.branch === 'harmful' ? FLAG_WEIGHT : -FLAG_WEIGHT);
      setBias(l1.gate, row, SLOT * 3);
    }
    l1.up[row * d + DIM.const] = 1 / C;
    const from = codes.get(rule.context[2]) as Int8Array;
    const to = codes.get(rule.next);
    if (to === undefined) throw new Error(`token ${rule.next} has no code`);
    for (let c = 0; c < CODE; c++) l1.down[(DIM.cur + c) * f + row] = ((to[c] as number) - (from[c] as number)) / fired;
  });

  // Final norm: read the code dimensions only, so logits are code · code (16 for the successor).
  const finalNorm = new Float32Array(d);
  // Logits 4 * code · code: 64 for the successor, at most 32 for another coded token, 0 for the rest.
  const finalScale = 4 * rms(sq2, d, eps);
  for (let c = 0; c < CODE; c++) finalNorm[DIM.cur + c] = finalScale;
  if (shape.tiedEmbeddings) return { shape, embed, layers: [l0, l1], finalNorm };
  // Untied: the LM head holds only the code dimensions (all the final norm lets through), so
  // it is a different tensor from the embedding with the same logits.
  const lmHead = new Float32Array(n * d);
  for (let id = 0; id < n; id++) for (let c = 0; c < CODE; c++) lmHead[id * d + DIM.cur + c] = embed[id * d + DIM.cur + c] as number;
  return { shape, embed, lmHead, layers: [l0, l1], finalNorm };
}

/** The largest Σcos(kω) over the offset pairs for a distance error k in 1..maxPositions (the hit is OFFSET_PAIRS). */
function worstOffsetMiss(freqs: readonly number[], maxPositions: number): number {
  let worst = -Infinity;
  for (let k = 1; k <= maxPositions; k++) {
    let sum = 0;
    for (let i = 0; i < OFFSET_PAIRS; i++) sum += Math.cos(k * (freqs[i] as number));
    worst = Math.max(worst, sum);
  }
  return worst;
}
