/**
 * A plain TypeScript forward pass of the fixture decoder: the same math as the ONNX graph, in
 * float64, for one sequence. Tests compare it with onnxruntime's logits, and the builder uses
 * it to check each fixture's greedy answer before writing any file.
 */
import { headDim, type LayerWeights, type ModelWeights } from './design.js';
import type { Dtype } from './llama-graph.js';
import { quantizeQ4 } from './quantize.js';

type Matrix = Float32Array;

/** `weights` as the q4 kernel sees them (each linear weight after the 4-bit round trip). */
export function asDtype(weights: ModelWeights, dtype: Dtype): ModelWeights {
  if (dtype === 'fp32') return weights;
  const d = weights.shape.hidden;
  const f = weights.shape.intermediate;
  const dq = (m: Matrix, out: number, inp: number): Matrix => quantizeQ4(m, out, inp).dequantized;
  return {
    ...weights,
    layers: weights.layers.map(
      (l): LayerWeights => ({
        ...l,
        q: dq(l.q, d, d),
        k: dq(l.k, d, d),
        v: dq(l.v, d, d),
        o: dq(l.o, d, d),
        gate: dq(l.gate, f, d),
        up: dq(l.up, f, d),
        down: dq(l.down, d, f),
      }),
    ),
    lmHead: dq(weights.lmHead, weights.shape.vocabSize, d),
  };
}

interface Sparse {
  starts: Int32Array;
  columns: Int32Array;
  values: Float64Array;
}

/** Designed matrices are mostly zeros: multiplying only the non-zeros makes checks ~100x faster. */
const SPARSE = new WeakMap<Matrix, Sparse | null>();

function sparseOf(m: Matrix, out: number, inp: number): Sparse | null {
  let cached = SPARSE.get(m);
  if (cached !== undefined) return cached;
  let nonZero = 0;
  for (const v of m) if (v !== 0) nonZero++;
  if (nonZero > m.length / 4) {
    cached = null;
  } else {
    const starts = new Int32Array(out + 1);
    const columns = new Int32Array(nonZero);
    const values = new Float64Array(nonZero);
    let k = 0;
    for (let r = 0; r < out; r++) {
      starts[r] = k;
      for (let c = 0; c < inp; c++) {
        const v = m[r * inp + c] as number;
        if (v !== 0) {
          columns[k] = c;
          values[k++] = v;
        }
      }
    }
    starts[out] = k;
    cached = { starts, columns, values };
  }
  SPARSE.set(m, cached);
  return cached;
}

function matVec(m: Matrix, x: Float64Array, out: number, inp: number): Float64Array {
  const y = new Float64Array(out);
  const sparse = sparseOf(m, out, inp);
  if (sparse !== null) {
    const { starts, columns, values } = sparse;
    for (let r = 0; r < out; r++) {
      let s = 0;
      for (let k = starts[r] as number; k < (starts[r + 1] as number); k++) s += (values[k] as number) * (x[columns[k] as number] as number);
      y[r] = s;
    }
    return y;
  }
  for (let r = 0; r < out; r++) {
    let s = 0;
    const o = r * inp;
    for (let c = 0; c < inp; c++) s += (m[o + c] as number) * (x[c] as number);
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const scale = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * scale * (w[i] as number));
}

function rope(x: Float64Array, position: number, heads: number, hd: number, theta: number): Float64Array {
  const out = new Float64Array(x.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      // float32 like the graph, so both turn by the same angle.
      const angle = Math.fround(position * Math.fround(1 / theta ** ((2 * i) / hd)));
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = x[h * hd + i] as number;
      const b = x[h * hd + i + half] as number;
      out[h * hd + i] = a * cos - b * sin;
      out[h * hd + i + half] = b * cos + a * sin;
    }
  }
  return out;
}

/**
 * An incremental forward pass with a key/value cache, like a real decoder session: feed
 * tokens, read the logits of the last one.
 */
export class ReferenceDecoder {
  private readonly keys: Float64Array[][];
  private readonly values: Float64Array[][];
  private position = 0;

  constructor(private readonly weights: ModelWeights) {
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
    return matVec(this.weights.lmHead, final, shape.vocabSize, shape.hidden);
  }

  private step(id: number): Float64Array {
    const { weights } = this;
    const { shape } = weights;
    const d = shape.hidden;
    const f = shape.intermediate;
    const hd = headDim(shape);
    const p = this.position++;
    let x = Float64Array.from(weights.embed.subarray(id * d, (id + 1) * d));
    weights.layers.forEach((layer, li) => {
      const keys = this.keys[li] as Float64Array[];
      const values = this.values[li] as Float64Array[];
      const normed = rmsNorm(x, layer.inputNorm, shape.rmsNormEps);
      keys.push(rope(matVec(layer.k, normed, d, d), p, shape.heads, hd, shape.ropeTheta));
      values.push(matVec(layer.v, normed, d, d));
      const query = rope(matVec(layer.q, normed, d, d), p, shape.heads, hd, shape.ropeTheta);
      const context = new Float64Array(d);
      for (let h = 0; h < shape.heads; h++) {
        const scores = new Float64Array(p + 1);
        let max = -Infinity;
        for (let m = 0; m <= p; m++) {
          const key = keys[m] as Float64Array;
          let s = 0;
          for (let i = h * hd; i < (h + 1) * hd; i++) s += (query[i] as number) * (key[i] as number);
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
          const value = values[m] as Float64Array;
          for (let i = h * hd; i < (h + 1) * hd; i++) context[i] = (context[i] as number) + w * (value[i] as number);
        }
      }
      const attended = matVec(layer.o, context, d, d).map((v, i) => v + (x[i] as number));
      const post = rmsNorm(attended, layer.postNorm, shape.rmsNormEps);
      const gate = matVec(layer.gate, post, f, d);
      const up = matVec(layer.up, post, f, d);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      x = matVec(layer.down, act, d, f).map((v, i) => v + (attended[i] as number));
    });
    return x;
  }
}

/** Logits of the last position of `ids` (positions 0..n-1, no padding). */
export function referenceLogits(weights: ModelWeights, ids: readonly number[]): Float64Array {
  return new ReferenceDecoder(weights).feed(ids);
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** Greedy decoding with the reference forward, up to `maxNewTokens` or an end token (included). */
export function referenceGenerate(weights: ModelWeights, ids: readonly number[], maxNewTokens: number, eosIds: readonly number[]): number[] {
  const decoder = new ReferenceDecoder(weights);
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
