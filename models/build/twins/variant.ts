/**
 * What one twin adds to its graph family (Qwen3 or Llama): who it mirrors, its tokenizer files,
 * how the runtime encodes its prompt, and the answers it writes. The design, the self-check and
 * the README are the same for every twin, so they live here once.
 */
import { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ModerationInput } from '../../../src/types.js';
import { CODE, codeOf } from './codes.js';
import { assignCodes, designTwin, type AnswerRule, type Feature, type Pattern, type TwinShape, type TwinWeights } from './design.js';
import type { TwinDtype } from './qwen3-graph.js';
import { twinAsDtype, twinGenerate } from './reference.js';
import { answerRulesOf, boundaryOf, endsWordOf, tokenBytes, triggerPatterns, type AnswerSequence, type TokenizerJson } from './vocabulary.js';

/** What a twin's manifest and README say about it. */
export interface TwinIdentity {
  id: string;
  name: string;
  mirrors: string;
  family: string;
  contextLength: number;
  description: string;
}

/** A tokenizer's two files, as written into the twin. */
export interface TokenizerFiles {
  json: Uint8Array;
  config: Uint8Array;
}

/** One twin of a graph family. */
export interface TwinVariant {
  info: TwinIdentity;
  shape: TwinShape;
  tokenizerFiles(): TokenizerFiles;
  /** The prompt ids of `input` exactly as the runtime encodes them for this family. */
  promptIds(tokenizer: PreTrainedTokenizer, input: ModerationInput): number[];
  /** The token sequences the twin must continue (see `answerRulesOf`). */
  answerSequences(tokenizer: PreTrainedTokenizer): AnswerSequence[];
  /** The patterns of the features it flags beside `trigger` (see design.ts). */
  features?(tokenizer: PreTrainedTokenizer, bytesOf: (id: number) => Uint8Array): Partial<Record<Exclude<Feature, 'trigger'>, Pattern[]>>;
  /** Rules beyond the two branches' (an unsure verdict, a second harmful answer), from those. */
  adjustRules?(rules: AnswerRule[], tokenizer: PreTrainedTokenizer): AnswerRule[];
  /**
   * Token pairs written half and half by an unsure verdict, each with the token they follow:
   * the pair's codes are made to agree in 12 of 16 places (dot product 8), so that the
   * half-and-half state is nearer to both than to any other coded token; the trace the two
   * half neurons leave of the followed token's code breaks the tie towards the second.
   */
  halfPairs?(tokenizer: PreTrainedTokenizer): readonly HalfPair[];
  /** The token ids the twin writes for one of its answers (by default the tokenizer's own). */
  answerIds?(tokenizer: PreTrainedTokenizer, text: string): number[];
  /**
   * Inputs the builder runs through the reference forward before writing anything, with the
   * answer text each must get; `designOnly` ones in fp32 alone (what they check is the design,
   * and the reference is slow on a real vocabulary: the first ones check every dtype's rounding).
   */
  selfChecks: readonly { input: ModerationInput; answer: string; designOnly?: true }[];
  /** The token every answer ends with. */
  answerEnd: number;
  /** Every end token of generation_config. */
  ends: readonly number[];
}

/**
 * Two tokens whose logits must be (nearly) equal after `follows`: `tieBreak` is how much larger
 * the dot product of `b`'s code with `follows`' is than `a`'s (with 0, both are 8).
 */
export interface HalfPair {
  a: number;
  b: number;
  follows: number;
  tieBreak: 0 | 4;
}

/** The designed weights of a twin, and what tests need. */
export interface DesignedTwin {
  weights: TwinWeights;
  /** The trigger patterns. */
  patterns: Pattern[];
  features: Partial<Record<Feature, Pattern[]>>;
  rules: AnswerRule[];
  codes: ReadonlyMap<number, Int8Array>;
}

const dot = (a: Int8Array, b: Int8Array): number => a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);

/**
 * Gives `a` and `b` codes (swapping them with other tokens', or taking unused ones) whose dot
 * product is 8, with `b`'s dot product with `follows`' larger than `a`'s by `tieBreak` (both 8
 * when it is 0); every code is as good as any other for the design, so swaps change nothing else.
 * @throws when no codes fit.
 */
function alignCodes(codes: Map<number, Int8Array>, { a, b, follows, tieBreak }: HalfPair, fixed: ReadonlySet<number>): void {
  const cf = codes.get(follows);
  if (cf === undefined || !codes.has(a) || !codes.has(b)) throw new Error(`token ${a}, ${b} or ${follows} has no code`);
  // `assignCodes` hands out codes 0..size-1; swaps keep that set, so the rest are free.
  const free = Array.from({ length: 1023 - codes.size }, (_, i) => codeOf(codes.size + i));
  const movable = [...codes].filter(([id]) => id !== follows && !fixed.has(id)).map(([, code]) => code);
  const pool = [codes.get(a) as Int8Array, codes.get(b) as Int8Array, ...movable, ...free];
  const give = (id: number, code: Int8Array) => {
    const holder = [...codes].find(([, c]) => c === code)?.[0];
    if (holder !== undefined) codes.set(holder, codes.get(id) as Int8Array);
    codes.set(id, code);
  };
  for (const ca of pool) {
    for (const cb of pool) {
      if (ca === cb || dot(ca, cb) !== CODE / 2 || dot(cf, cb) - dot(cf, ca) !== tieBreak) continue;
      if (tieBreak === 0 && dot(cf, ca) !== CODE / 2) continue;
      give(a, ca);
      give(b, cb);
      return;
    }
  }
  throw new Error(`no codes for the half pair ${a}, ${b}`);
}

/** The transformers.js tokenizer of `files`. */
export function tokenizerOf(files: TokenizerFiles): PreTrainedTokenizer {
  const decoder = new TextDecoder();
  return new PreTrainedTokenizer(JSON.parse(decoder.decode(files.json)), JSON.parse(decoder.decode(files.config)));
}

/** Designs a twin's weights from its real vocabulary (no files). */
export function designVariant(variant: TwinVariant, files: TokenizerFiles, tokenizer: PreTrainedTokenizer): DesignedTwin {
  const bytes = tokenBytes(JSON.parse(new TextDecoder().decode(files.json)) as TokenizerJson);
  const bytesOf = (id: number): Uint8Array => {
    const b = bytes.get(id);
    return b === undefined || b === 'added' ? new TextEncoder().encode(tokenizer.decode([id])) : b;
  };
  const patterns = triggerPatterns(tokenizer, bytesOf);
  const features: Partial<Record<Feature, Pattern[]>> = { trigger: patterns, ...variant.features?.(tokenizer, bytesOf) };
  const base = answerRulesOf(variant.answerSequences(tokenizer));
  const rules = variant.adjustRules?.(base, tokenizer) ?? base;
  const coded: number[] = [];
  for (const list of Object.values(features)) for (const p of list) for (const s of p) if (s !== 'boundary') coded.push(s.token);
  for (const r of rules) coded.push(...r.context, r.next);
  const codes = new Map(assignCodes(coded));
  const aligned = new Set<number>();
  for (const pair of variant.halfPairs?.(tokenizer) ?? []) {
    alignCodes(codes, pair, aligned);
    aligned.add(pair.a).add(pair.b).add(pair.follows);
  }
  const weights = designTwin(
    { shape: variant.shape, features, rules, begins: (id) => boundaryOf(bytes.get(id)), ends: (id) => endsWordOf(bytes.get(id)) },
    codes,
  );
  return { weights, patterns, features, rules, codes };
}

/**
 * Greedy answers of the reference forward to the variant's self-check inputs.
 * @throws when one differs from its designed answer.
 */
export function selfCheckVariant(variant: TwinVariant, weights: TwinWeights, tokenizer: PreTrainedTokenizer, dtypes: readonly TwinDtype[]): void {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  for (const dtype of dtypes) {
    const w = twinAsDtype(weights, dtype);
    for (const { input, answer, designOnly } of variant.selfChecks) {
      if (designOnly === true && dtype !== 'fp32') continue;
      const want = [...(variant.answerIds?.(tokenizer, answer) ?? encode(answer)), variant.answerEnd];
      const got = twinGenerate(w, variant.promptIds(tokenizer, input), want.length + 1, variant.ends);
      if (got.join() !== want.join()) {
        throw new Error(`${variant.info.id} (${dtype}) answers ${JSON.stringify(tokenizer.decode(got))} to ${JSON.stringify(input)}, expected ${JSON.stringify(tokenizer.decode(want))}`);
      }
    }
  }
}

/** The twin's README. */
export function twinReadme(info: TwinIdentity): Uint8Array {
  return new TextEncoder().encode(`# ${info.name}\n\n${info.description}\n\nMirrors ${info.mirrors}. Generated by \`npm run models\` (models/build/twins/). Do not edit.\n`);
}

/** Pretty JSON with a final newline, as the real repos' config files. */
export const jsonFile = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
