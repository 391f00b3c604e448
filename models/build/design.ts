/**
 * The weights of a fixture: a Llama decoder whose greedy answer is designed, not trained.
 *
 * Residual stream layout (the "designed" dimensions; the rest is scratch for random layers):
 * - dim 0 `const`: every token has C here; it gives the query of the trigger head and lets
 *   any prompt-final token predict the answer's first token.
 * - dim 1 `trigger`: lexicon tokens have V here instead of a code.
 * - dim 2 `flag`: written by the trigger head: +1 when the text holds a trigger, -1 if not.
 * - dim 3 `filler`: every other token has V here, so all embeddings have the same norm and
 *   RMSNorm (with weights set to that norm) is the identity on them.
 * - dim 4 `unsure`: the unsure words' tokens have V here instead of a code.
 * - dim 5 `mix`: written by the unsure head (below): 1 at the fast opening when the text holds
 *   an unsure word.
 * - dims 6.. `code`: one dimension per answer token, V there.
 *
 * Layer 0, head 0 finds triggers: its query reads `const`, its key reads `trigger` in the
 * lowest-frequency rotary pair (so positions barely turn it), giving a score ~50 on trigger
 * tokens and 0 elsewhere; its value is +1 on trigger tokens and -1 elsewhere. Softmax then
 * averages to +1 if any trigger is in context, -1 if none; `o_proj` writes that to `flag`.
 * The LM head maps each answer token's code to its successor, the flag picks the successor at
 * branch points, and `const` picks the first answer token after any prompt.
 *
 * Unsure on purpose (when the design gets `unsure`): layer 0, head 1's query reads the code of
 * the fast-mode opening token (the runtime writes it to skip the trace), its key the `unsure`
 * dimension, its value 1 on unsure tokens: at that opening it writes 1 to `mix` when the text
 * holds an unsure word (elsewhere it averages to about 0). The LM head adds ±`mix` to the two
 * verdict words there, cancelling the flag's -1: both words get the same logit, a score of
 * 0.5; after the reasoned trace (another token before the verdict) the flag decides alone.
 *
 * Every designed weight is 0 or ±(a block's largest weight), or a single non-zero per block,
 * so 4-bit block quantization (scale = max/7) stores it exactly and q4 answers like fp32.
 */
import { BRANCHES, type SuccessorTable } from './answers.js';

/** Llama hyper-parameters of a fixture. */
export interface ModelShape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  ropeTheta: number;
  rmsNormEps: number;
}

/** One decoder layer's weights; matrices are `[out, in]` row-major. */
export interface LayerWeights {
  inputNorm: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  postNorm: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
}

/** All weights of a fixture. */
export interface ModelWeights {
  shape: ModelShape;
  /** `[vocab, hidden]`. */
  embed: Float32Array;
  layers: LayerWeights[];
  finalNorm: Float32Array;
  /** `[vocab, hidden]`. */
  lmHead: Float32Array;
}

/** What the design needs beyond the shape. */
export interface DesignInput {
  shape: ModelShape;
  table: SuccessorTable;
  triggerIds: readonly number[];
  /**
   * Random weights everywhere the design does not need exact values (the bench fixture),
   * written only into scratch dimensions so the designed answer survives them.
   */
  random?: { seed: number; std: number };
  /** The unsure words' token ids, the fast opening's token and the two verdict tokens that follow it. */
  unsure?: { ids: readonly number[]; fastId: number; harmful: number; unharmful: number };
}

const DIM = { const: 0, trigger: 1, flag: 2, filler: 3, unsure: 4, mix: 5, firstCode: 6 } as const;

/** Dimensions before the answer tokens' codes. */
export const DESIGNED_DIMS = DIM.firstCode;
/** Values in the residual stream: C on `const`, V on the token's own dimension. */
const C = 2;
const V = 4;
/** Magnitude of every LM-head weight (logit margins are multiples of it). */
const LM_WEIGHT = 4;
/** Trigger-head attention score on a trigger token; e^50 outweighs any context length. */
const TRIGGER_SCORE = 50;

/** Head size of `shape`. */
export function headDim(shape: ModelShape): number {
  return shape.hidden / shape.heads;
}

/** A seeded normal generator (mulberry32 + Box-Muller): the same numbers on every machine. */
function normalRandom(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Designs the weights. @throws when the hidden size has no room for every answer token's code. */
export function designWeights(input: DesignInput): ModelWeights {
  const { shape, table, triggerIds } = input;
  const { vocabSize: n, hidden: d, intermediate: f } = shape;
  const hd = headDim(shape);
  const codes = [...table.next.keys()].sort((a, b) => a - b);
  const designed = DIM.firstCode + codes.length;
  if (designed > d) throw new Error(`hidden ${d} is too small for ${codes.length} answer tokens`);
  const codeDim = new Map(codes.map((id, i) => [id, DIM.firstCode + i]));
  const triggers = new Set(triggerIds);
  const unsure = new Set(input.unsure?.ids ?? []);
  const gauss = input.random === undefined ? undefined : normalRandom(input.random.seed);
  const std = input.random?.std ?? 0;
  // Random values go to scratch rows (outputs >= designed) only, or to rows of random heads.
  const fill = (m: Float32Array, rows: number, cols: number, rowOk: (r: number) => boolean): void => {
    if (gauss === undefined) return;
    for (let r = 0; r < rows; r++) if (rowOk(r)) for (let c = 0; c < cols; c++) m[r * cols + c] = gauss() * std;
  };

  const embed = new Float32Array(n * d);
  for (let id = 0; id < n; id++) {
    embed[id * d + DIM.const] = C;
    const own = triggers.has(id) ? DIM.trigger : unsure.has(id) ? DIM.unsure : (codeDim.get(id) ?? DIM.filler);
    embed[id * d + own] = V;
  }

  // RMSNorm weights that make the norm the identity on designed states (eps included).
  const rms = (sumSquares: number): number => Math.sqrt(sumSquares / d + shape.rmsNormEps);
  const inputScale = rms(C * C + V * V);
  const finalScale = rms(C * C + V * V + 1);

  const layers: LayerWeights[] = [];
  for (let l = 0; l < shape.layers; l++) {
    const layer: LayerWeights = {
      inputNorm: new Float32Array(d).fill(l === 0 ? inputScale : 1),
      q: new Float32Array(d * d),
      k: new Float32Array(d * d),
      v: new Float32Array(d * d),
      o: new Float32Array(d * d),
      postNorm: new Float32Array(d).fill(1),
      gate: new Float32Array(f * d),
      up: new Float32Array(f * d),
      down: new Float32Array(d * f),
    };
    // Layer 0's head 0 is the trigger head; every other head and every MLP is random (bench) or zero.
    const designedHeads = input.unsure === undefined ? 1 : 2;
    const randomHeadRow = (r: number): boolean => l > 0 || r >= designedHeads * hd;
    fill(layer.q, d, d, randomHeadRow);
    fill(layer.k, d, d, randomHeadRow);
    fill(layer.v, d, d, randomHeadRow);
    fill(layer.o, d, d, (r) => r >= designed);
    fill(layer.gate, f, d, () => true);
    fill(layer.up, f, d, () => true);
    fill(layer.down, d, f, (r) => r >= designed);
    if (l === 0) {
      const pair = hd / 2 - 1; // lowest rotary frequency: inv_freq = theta^(-(hd-2)/hd)
      const gain = Math.sqrt((TRIGGER_SCORE * Math.sqrt(hd)) / (C * V));
      layer.q[pair * d + DIM.const] = gain;
      layer.k[pair * d + DIM.trigger] = gain;
      // value: +1 for a trigger token (0.5*V - 0.5*C), -1 for any other (-0.5*C).
      layer.v[0 * d + DIM.trigger] = 0.5;
      layer.v[0 * d + DIM.const] = -0.5;
      layer.o[DIM.flag * d + 0] = 1;
      if (input.unsure !== undefined) {
        // Head 1: the unsure head (see the module doc), scored like the trigger head.
        const fast = codeDim.get(input.unsure.fastId);
        if (fast === undefined) throw new Error('the fast opening has no code');
        const unsureGain = Math.sqrt(TRIGGER_SCORE * Math.sqrt(hd)) / V;
        layer.q[(hd + pair) * d + fast] = unsureGain;
        layer.k[(hd + pair) * d + DIM.unsure] = unsureGain;
        layer.v[hd * d + DIM.unsure] = 1 / V;
        layer.o[DIM.mix * d + hd] = 1;
      }
    }
    layers.push(layer);
  }

  const lmHead = new Float32Array(n * d);
  const sign = new Map<number, number>();
  const setSign = (id: number, s: number): void => {
    const known = sign.get(id);
    if (known !== undefined && known !== s) throw new Error(`token ${id} follows a branch point on both sides`);
    sign.set(id, s);
  };
  const branchSuccessors = (entry: Partial<Record<(typeof BRANCHES)[number], number>>): void => {
    const { harmful, unharmful } = entry;
    if (harmful !== undefined && unharmful !== undefined && harmful !== unharmful) {
      setSign(harmful, 1);
      setSign(unharmful, -1);
    }
  };
  branchSuccessors(table.start);
  for (const id of new Set(BRANCHES.map((b) => table.start[b]))) lmHead[id * d + DIM.const] = LM_WEIGHT;
  for (const [id, entry] of table.next) {
    branchSuccessors(entry);
    const code = codeDim.get(id) as number;
    for (const successor of new Set(Object.values(entry))) lmHead[successor * d + code] = LM_WEIGHT;
  }
  for (const [id, s] of sign) lmHead[id * d + DIM.flag] = s * LM_WEIGHT;
  if (input.unsure !== undefined) {
    lmHead[input.unsure.harmful * d + DIM.mix] = LM_WEIGHT;
    lmHead[input.unsure.unharmful * d + DIM.mix] = -LM_WEIGHT;
  }

  return {
    shape,
    embed,
    layers,
    finalNorm: new Float32Array(d).fill(finalScale),
    lmHead,
  };
}
