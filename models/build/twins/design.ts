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
 * - layer 0 MLP: one neuron per pattern of a feature (up to three tokens; a slot may instead ask
 *   for a word boundary: the current token begins a word, or the token two back ends one)
 *   writes ±1 to the feature's detection dimension where the pattern ends;
 * - layer 1 attention: one head per feature (as the fixtures' trigger head) sets the feature's
 *   flag to +1 when any position has it, else -1. Features: `trigger` (the trigger list, the
 *   harmful flag), `unsure` (words the twin is unsure about on purpose), and two a twin uses
 *   for its own purposes (`marker`, `mode`: e.g. a text only its trace or one mode's
 *   template holds). Two features share a detection dimension with opposite signs (their
 *   patterns never end on the same token), and a KV head: each head's key is its own rotary pair;
 * - layer 1 MLP: one neuron per answer trigram (gated by flags where the successor depends on
 *   them) replaces the current token's code by its successor's; two neurons at half strength
 *   write half of each of two successors, which makes the twin unsure on purpose;
 * - the tied LM head reads only the code dimensions (final norm weight 0 elsewhere): the
 *   successor's own embedding gets the largest logit.
 *
 * Residual layout (hidden 64; two 32-wide quantization blocks):
 * - block 0: `const` 7, `one` 1, the current token's code (16), its filler (4 when it has no
 *   code, so all norms agree), `begin` / `end` (±4: whether the token begins a word, and whether
 *   it ends one, i.e. its last character is not a letter), the two detection dimensions, the
 *   four flags, an `anchor` that is always 0 (its gate weight 7 pins every block's 4-bit scale
 *   to 1, so integer weights are exact), the fillers of `p1`/`p2` and `p2`'s `end`;
 * - block 1: the codes of `p1` and `p2`.
 */
import { CODE, codeOf } from './codes.js';

/** Residual dimensions. */
export const DIM = {
  const: 0,
  one: 1,
  cur: 2, // ..17
  curFiller: 18,
  curBegin: 19,
  curEnd: 20,
  /** Detection of `trigger` (+1) and `unsure` (-1) patterns. */
  detectA: 21,
  flag: 22,
  anchor: 23,
  p1Filler: 24,
  p2Filler: 25,
  p2End: 26,
  /** Detection of `marker` (+1) and `mode` (-1) patterns. */
  detectB: 27,
  unsureFlag: 28,
  markerFlag: 29,
  modeFlag: 30,
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

/** One slot of a pattern: a token, or a word boundary (the current token begins a word; the token two back ends one). */
export type Slot = { token: number } | 'boundary';

/** What the layer-1 heads flag: see the module doc. */
export const FEATURES = ['trigger', 'unsure', 'marker', 'mode'] as const;

/** A flagged feature. */
export type Feature = (typeof FEATURES)[number];

/** Where each feature is detected (dimension, sign) and flagged (dimension, head: KV head and rotary pair). */
const FEATURE_LAYOUT: Readonly<Record<Feature, { detect: number; sign: 1 | -1; flag: number; kv: number; pair: 0 | 1 }>> = {
  trigger: { detect: DIM.detectA, sign: 1, flag: DIM.flag, kv: 0, pair: 0 },
  unsure: { detect: DIM.detectA, sign: -1, flag: DIM.unsureFlag, kv: 0, pair: 1 },
  marker: { detect: DIM.detectB, sign: 1, flag: DIM.markerFlag, kv: 1, pair: 0 },
  mode: { detect: DIM.detectB, sign: -1, flag: DIM.modeFlag, kv: 1, pair: 1 },
};

/** A pattern over the last up to three positions (oldest first; the last slot is the current token). */
export type Pattern = readonly Slot[];

/**
 * An answer rule: after `context` (one to three tokens, oldest first), write `next`. Its neuron's
 * pre-activation, in units of the neuron gain, is the context match minus its maximum, plus
 * `gate`'s weights times the flags (±1), plus `offset`: 4 fires it, 2 fires it at half strength,
 * -4 or less keeps it off. Without `gate` it always fires on its context (offset 4).
 */
export interface AnswerRule {
  context: readonly number[];
  next: number;
  gate?: Partial<Record<Feature, number>>;
  offset?: number;
}

/** What the design needs. */
export interface TwinDesignInput {
  shape: TwinShape;
  /** The patterns of each feature the twin flags (`trigger` at least). */
  features: Partial<Record<Feature, readonly Pattern[]>>;
  rules: readonly AnswerRule[];
  /** Whether a token begins a word (space, punctuation, digit, newline, special token). */
  begins: (id: number) => boolean;
  /** Whether a token ends a word (its last character is not a letter or mark; special tokens). */
  ends: (id: number) => boolean;
}

const C = 7;
const V = 4;
/** Gain of every designed neuron: a neuron that matches has pre-activation 4 * U, one that does not at most -4 * U. */
const U = 5;
/** Every slot that matches adds 16 (code · code, or ±V on a boundary dimension weighted ±4: -16 when it does not). */
const SLOT = 16;
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
const EMBED_SQ = C * C + 1 + SLOT + 2 * V * V;
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
  if (!Number.isInteger(theta) || one > 7 || one < 0) throw new Error(`threshold ${theta} cannot be written exactly`);
  return { c: -c, one: -one };
}

/** Designs the weights. @throws when the layout cannot hold the design. */
export function designTwin(input: TwinDesignInput, codes: ReadonlyMap<number, Int8Array>): TwinWeights {
  const { shape } = input;
  const { vocabSize: n, hidden: d, headDim: hd, heads, kvHeads, intermediate: f } = shape;
  const eps = shape.rmsNormEps;
  if (kvHeads < 2 || heads % kvHeads !== 0 || heads / kvHeads < 2) throw new Error('need two KV heads with two query heads each');
  const used = FEATURES.filter((feature) => input.features[feature] !== undefined);
  const detectors = used.flatMap((feature) => (input.features[feature] ?? []).map((pattern) => ({ feature, pattern })));
  const neurons = detectors.length + input.rules.length;
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
    embed[row + DIM.curBegin] = input.begins(id) ? V : -V;
    embed[row + DIM.curEnd] = input.ends(id) ? V : -V;
  }

  // Norm weights that make each RMSNorm the identity on designed states.
  const identity = (sq: number): Float32Array => new Float32Array(d).fill(rms(sq, d, eps));
  const sq0 = EMBED_SQ;
  const sq1 = EMBED_SQ + P1_SQ + P2_SQ; // after the offset heads
  const sq2 = sq1 + used.length; // after the flags

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
  // Value: the current token's code and filler, and whether it ends a word (for p2).
  const copy = [...Array.from({ length: CODE }, (_, i) => DIM.cur + i), DIM.curFiller, DIM.curEnd];
  copy.forEach((dim, i) => {
    l0.v[i * d + dim] = 1;
  });
  // Output: head 0's copy to p1 (code, filler), head 1's to p2 (code, filler, end).
  const p1Dims = [...Array.from({ length: CODE }, (_, i) => DIM.p1 + i), DIM.p1Filler];
  const p2Dims = [...Array.from({ length: CODE }, (_, i) => DIM.p2 + i), DIM.p2Filler, DIM.p2End];
  p1Dims.forEach((dim, i) => {
    l0.o[dim * heads * hd + (0 * hd + i)] = 1;
  });
  p2Dims.forEach((dim, i) => {
    l0.o[dim * heads * hd + (1 * hd + i)] = 1;
  });

  // Gate rows read three slots; the slot of position -k sits in these dims (a boundary two
  // back is the end of that token's word, on the current token the beginning of its own).
  const slotDims = [
    { code: DIM.p2, bnd: DIM.p2End },
    { code: DIM.p1, bnd: -1 },
    { code: DIM.cur, bnd: DIM.curBegin },
  ] as const;
  const writePattern = (gate: Float32Array, row: number, pattern: Pattern): number => {
    const offset = slotDims.length - pattern.length;
    pattern.forEach((slot, i) => {
      const dims = slotDims[offset + i] as (typeof slotDims)[number];
      if (slot === 'boundary') {
        if (dims.bnd < 0) throw new Error('a word boundary can only be tested on the current token or two back');
        gate[row * d + dims.bnd] = U * (SLOT / V); // weight 4U on a value of ±4: ±16U
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

  // Layer 0 MLP: feature detectors.
  detectors.forEach(({ feature, pattern }, row) => {
    const slots = writePattern(l0.gate, row, pattern);
    setBias(l0.gate, row, SLOT * slots - 4);
    l0.up[row * d + DIM.const] = 1 / C;
    const { detect, sign } = FEATURE_LAYOUT[feature];
    l0.down[detect * f + row] = sign / fired;
  });
  // Scale-anchor rows: every row of gate has the 7U anchor, so unused rows are zero (exact).

  // Layer 1: one head per feature; its KV head's key holds the feature's detection (with its
  // sign) in the feature's own low-frequency rotary pair, its query reads `const` there.
  const l1 = layer();
  l1.inputNorm = identity(sq1);
  l1.postNorm = identity(sq2);
  const group = heads / kvHeads;
  const pairOf = (pair: 0 | 1): number => half - 1 - pair;
  // Without norms the raw score is q·k / sqrt(hd): gains sqrt(TRIGGER_SCORE * sqrt(hd)) on both.
  const gain = shape.qkNorm ? 1 : Math.sqrt(TRIGGER_SCORE * Math.sqrt(hd));
  if (shape.qkNorm) {
    // Normalized, a query has one entry of size sqrt(hd) and a key two of size sqrt(hd / 2)
    // (both pairs of its KV head read the same detection): the score is their product / sqrt(hd).
    const normGain = Math.sqrt(TRIGGER_SCORE / Math.sqrt(hd / 2));
    l1.qNorm.fill(normGain);
    l1.kNorm.fill(normGain);
  }
  for (const feature of FEATURES) {
    // Every key pair is written, used or not, so that the normalized keys are alike in every twin.
    const { detect, sign, flag, kv, pair } = FEATURE_LAYOUT[feature];
    l1.k[(kv * hd + pairOf(pair)) * d + detect] = sign * gain;
    if (!used.includes(feature)) continue;
    const head = kv * group + pair;
    l1.q[(head * hd + pairOf(pair)) * d + DIM.const] = gain / C;
    // Value row `pair` of the KV head: +1 on the feature's positions (2 * sign * detect - one),
    // -1 elsewhere; the anchor pins the scale.
    const row = (kv * hd + pair) * d;
    l1.v[row + detect] = 2 * sign;
    l1.v[row + DIM.one] = -1;
    l1.v[row + DIM.anchor] = 7;
    l1.o[flag * heads * hd + head * hd + pair] = 1;
  }

  // Layer 1 MLP: answer rules.
  input.rules.forEach((rule, row) => {
    const pattern: Pattern = rule.context.map((token) => ({ token }));
    const slots = writePattern(l1.gate, row, pattern);
    for (const [feature, weight] of Object.entries(rule.gate ?? {}) as [Feature, number][]) {
      if (!used.includes(feature)) throw new Error(`a rule reads the ${feature} flag, which the twin does not flag`);
      if (!Number.isInteger(weight) || Math.abs(weight) > 7) throw new Error(`flag weight ${weight} cannot be written exactly`);
      l1.gate[row * d + FEATURE_LAYOUT[feature].flag] = U * weight;
    }
    setBias(l1.gate, row, SLOT * slots - (rule.offset ?? (rule.gate === undefined ? 4 : 0)));
    l1.up[row * d + DIM.const] = 1 / C;
    const from = codes.get(rule.context.at(-1) as number) as Int8Array;
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
