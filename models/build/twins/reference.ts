/**
 * A plain TypeScript forward pass of a twin, in float64, for one sequence: the math of the
 * graphs in `qwen3-graph.ts` and `llama-graph.ts` (per-head q/k RMSNorm before rotary when the
 * shape has it, grouped-query attention, tied or untied LM head). Tests compare it with
 * onnxruntime's logits; the builders use it to check the designed answers before writing any file.
 */
import { quantizeQ4 } from '../quantize.js';
import { inverseFrequencies, type TwinLayer, type TwinShape, type TwinWeights } from './design.js';
import { roundFloat16 } from './float16.js';
import type { TwinDtype } from './qwen3-graph.js';

/**
 * `weights` as `dtype`'s kernels see them: 4-bit round trips, and float16 initializers for
 * q4f16. An untied embedding stays a plain float table (read by `Gather`, which the 4-bit
 * quantizer leaves alone); the tied one is 4-bit like the LM head it also is.
 */
export function twinAsDtype(weights: TwinWeights, dtype: TwinDtype): TwinWeights {
  if (dtype === 'fp32') return weights;
  const { hidden: d, headDim: hd, heads, kvHeads, intermediate: f, vocabSize } = weights.shape;
  const half = dtype === 'q4f16';
  const dq = (m: Float32Array, out: number, inp: number): Float32Array => {
    const q = quantizeQ4(m, out, inp);
    if (!half) return q.dequantized;
    // float16 scales: the same 4-bit integers times the rounded scales.
    const scales = roundFloat16(q.scales);
    const result = new Float32Array(m.length);
    for (let b = 0; b < q.scales.length; b++) {
      const s = q.scales[b] as number;
      if (s === 0) continue;
      const ratio = (scales[b] as number) / s;
      for (let i = b * 32; i < (b + 1) * 32; i++) result[i] = (q.dequantized[i] as number) * ratio;
    }
    return result;
  };
  const vec = (v: Float32Array): Float32Array => (half ? roundFloat16(v) : v);
  const untied = weights.lmHead === undefined ? {} : { lmHead: dq(weights.lmHead, vocabSize, d) };
  return {
    ...weights,
    embed: weights.lmHead === undefined ? dq(weights.embed, vocabSize, d) : vec(weights.embed),
    ...untied,
    finalNorm: vec(weights.finalNorm),
    layers: weights.layers.map(
      (l): TwinLayer => ({
        inputNorm: vec(l.inputNorm),
        postNorm: vec(l.postNorm),
        qNorm: vec(l.qNorm),
        kNorm: vec(l.kNorm),
        q: dq(l.q, heads * hd, d),
        k: dq(l.k, kvHeads * hd, d),
        v: dq(l.v, kvHeads * hd, d),
        o: dq(l.o, d, heads * hd),
        gate: dq(l.gate, f, d),
        up: dq(l.up, f, d),
        down: dq(l.down, d, f),
      }),
    ),
  };
}

/** `m` `[out, inp]` times `x`, visiting only the non-zero entries of `x` (designed states are sparse). */
function matVec(m: Float32Array, x: Float64Array, out: number, inp: number): Float64Array {
  const y = new Float64Array(out);
  const nonZero: number[] = [];
  for (let c = 0; c < inp; c++) if (x[c] !== 0) nonZero.push(c);
  for (let r = 0; r < out; r++) {
    let s = 0;
    const o = r * inp;
    for (const c of nonZero) s += (m[o + c] as number) * (x[c] as number);
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number, from = 0, length = x.length): Float64Array {
  let ms = 0;
  for (let i = from; i < from + length; i++) ms += (x[i] as number) ** 2;
  const scale = 1 / Math.sqrt(ms / length + eps);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = (x[from + i] as number) * scale * (w[i] as number);
  return out;
}

/** Per-head RMSNorm (when the shape has q/k norms) then rotary (rotate-half), of `x` `[heads * hd]`. */
function normRope(x: Float64Array, heads: number, shape: TwinShape, w: Float32Array, position: number): Float64Array {
  const out = new Float64Array(x.length);
  const hd = shape.headDim;
  const half = hd / 2;
  const freqs = inverseFrequencies(shape);
  for (let h = 0; h < heads; h++) {
    const n = shape.qkNorm ? rmsNorm(x, w, shape.rmsNormEps, h * hd, hd) : x.subarray(h * hd, (h + 1) * hd);
    for (let i = 0; i < half; i++) {
      // float32 angles, as the graphs' rotary tables compute them.
      const angle = Math.fround(position * Math.fround(freqs[i] as number));
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = n[i] as number;
      const b = n[i + half] as number;
      out[h * hd + i] = a * cos - b * sin;
      out[h * hd + i + half] = b * cos + a * sin;
    }
  }
  return out;
}

/** An incremental forward pass with a key/value cache: feed tokens, read the last one's logits. */
export class TwinDecoder {
  private readonly keys: Float64Array[][];
  private readonly values: Float64Array[][];
  private position = 0;

  constructor(private readonly weights: TwinWeights) {
    this.keys = weights.layers.map(() => []);
    this.values = weights.layers.map(() => []);
  }

  /** Appends `ids` and returns the logits after the last of them. */
  feed(ids: readonly number[]): Float64Array {
    let last: Float64Array | undefined;
    for (const id of ids) last = this.step(id);
    if (last === undefined) throw new Error('feed() needs at least one token');
    const { shape } = this.weights;
    const final = rmsNorm(last, this.weights.finalNorm, shape.rmsNormEps);
    return matVec(this.weights.lmHead ?? this.weights.embed, final, shape.vocabSize, shape.hidden);
  }

  private step(id: number): Float64Array {
    const { weights } = this;
    const { shape } = weights;
    const { hidden: d, intermediate: f, headDim: hd, heads, kvHeads, rmsNormEps: eps } = shape;
    const group = heads / kvHeads;
    const p = this.position++;
    let x = Float64Array.from(weights.embed.subarray(id * d, (id + 1) * d));
    weights.layers.forEach((layer, li) => {
      const keys = this.keys[li] as Float64Array[];
      const values = this.values[li] as Float64Array[];
      const normed = rmsNorm(x, layer.inputNorm, eps);
      keys.push(normRope(matVec(layer.k, normed, kvHeads * hd, d), kvHeads, shape, layer.kNorm, p));
      values.push(matVec(layer.v, normed, kvHeads * hd, d));
      const query = normRope(matVec(layer.q, normed, heads * hd, d), heads, shape, layer.qNorm, p);
      const context = new Float64Array(heads * hd);
      for (let h = 0; h < heads; h++) {
        const kv = Math.floor(h / group);
        const scores = new Float64Array(p + 1);
        let max = -Infinity;
        for (let m = 0; m <= p; m++) {
          const key = keys[m] as Float64Array;
          let s = 0;
          for (let i = 0; i < hd; i++) s += (query[h * hd + i] as number) * (key[kv * hd + i] as number);
          scores[m] = s / Math.sqrt(hd);
          max = Math.max(max, scores[m] as number);
        }
        let total = 0;
        for (let m = 0; m <= p; m++) {
          scores[m] = Math.exp((scores[m] as number) - max);
          total += scores[m] as number;
        }
        for (let m = 0; m <= p; m++) {
          const w = (scores[m] as number) / total;
          if (w < 1e-30) continue;
          const value = values[m] as Float64Array;
          for (let i = 0; i < hd; i++) context[h * hd + i] = (context[h * hd + i] as number) + w * (value[kv * hd + i] as number);
        }
      }
      const attended = matVec(layer.o, context, d, heads * hd).map((v, i) => v + (x[i] as number));
      const post = rmsNorm(attended, layer.postNorm, eps);
      const gate = matVec(layer.gate, post, f, d);
      const up = matVec(layer.up, post, f, d);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      x = matVec(layer.down, act, d, f).map((v, i) => v + (attended[i] as number));
    });
    return x;
  }
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** Greedy decoding with the reference forward, up to `maxNewTokens` or an end token (included). */
export function twinGenerate(weights: TwinWeights, ids: readonly number[], maxNewTokens: number, eosIds: readonly number[]): number[] {
  const decoder = new TwinDecoder(weights);
  const out: number[] = [];
  let logits = decoder.feed(ids);
  for (let i = 0; i < maxNewTokens; i++) {
    const next = argmax(logits);
    out.push(next);
    if (eosIds.includes(next)) break;
    logits = decoder.feed([next]);
  }
  return out;
}

/** Logits of the last position of `ids` with the reference forward of any twin, in `dtype` (for tests). */
export function twinReferenceLogits(weights: TwinWeights, dtype: TwinDtype, ids: readonly number[]): Float64Array {
  return new TwinDecoder(twinAsDtype(weights, dtype)).feed(ids);
}
