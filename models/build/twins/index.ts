/**
 * The twins: test models whose files are laid out, named, typed and tokenized like a real
 * export users load, with designed weights that answer like the family (see `design.ts`).
 * `main.ts` builds each one into `models/fixtures/<id>/` with its manifest.
 */
import { TRIGGERS } from '../lexicon.js';
export { MIDWAY_HARMFUL, UNSURE_TEXTS, UNSURE_WORDS } from '../lexicon.js';
import { manifestFiles, type FixtureManifest } from '../manifest.js';
import { buildGuardReasonerTwin, GUARDREASONER_TWIN } from './guardreasoner.js';
import { buildLlamaGuard3Twin, LLAMA_GUARD_3_TWIN } from './llama-guard-3.js';
import { QWEN3_TWIN, buildQwen3Twin } from './qwen3.js';
import { buildQwen3GuardTwin, QWEN3GUARD_TWIN } from './qwen3guard.js';

/** A twin's manifest: a fixture manifest of any family that also names the real model it mirrors. */
export type TwinManifest = Omit<FixtureManifest, 'family' | 'reasoningModel'> & {
  family: string;
  reasoningModel: boolean;
  mirrors: string;
};

/** One twin: how to build its files, and its manifest once built. */
export interface Twin {
  id: string;
  build(): Map<string, Uint8Array>;
  manifest(files: ReadonlyMap<string, Uint8Array>, path: string): TwinManifest;
}

/** What a twin's manifest says about it beyond its files. */
interface TwinInfo {
  id: string;
  name: string;
  family: string;
  mirrors: string;
  description: string;
  contextLength: number;
  reasoningModel: boolean;
  /** In the real preset's order. */
  dtypes: string[];
}

function twinOf(info: TwinInfo, build: () => Map<string, Uint8Array>): Twin {
  return {
    id: info.id,
    build,
    manifest: (files, path) => ({
      id: info.id,
      name: info.name,
      family: info.family,
      testModel: true,
      mirrors: info.mirrors,
      reasoningModel: info.reasoningModel,
      description: info.description,
      source: { kind: 'local', path: path.split('\\').join('/') },
      dtypes: info.dtypes,
      files: manifestFiles(files),
      requiredFeatures: [],
      contextLength: info.contextLength,
      languages: [...new Set(TRIGGERS.map((t) => t.language))],
      license: 'MIT',
    }),
  };
}

/** Every twin. */
export const TWINS: readonly Twin[] = [
  // The real preset's order: q4f16 first (WebGPU with shader-f16), then q4, fp32.
  twinOf({ ...QWEN3_TWIN, reasoningModel: true, dtypes: ['q4f16', 'q4', 'fp32'] }, () => buildQwen3Twin().files),
  twinOf({ ...LLAMA_GUARD_3_TWIN, reasoningModel: false, dtypes: ['q4f16', 'q4', 'fp32'] }, () => buildLlamaGuard3Twin().files),
  twinOf({ ...QWEN3GUARD_TWIN, reasoningModel: false, dtypes: ['q4f16', 'q4', 'fp32'] }, () => buildQwen3GuardTwin().files),
  twinOf({ ...GUARDREASONER_TWIN, reasoningModel: true, dtypes: ['q4f16', 'q4', 'fp32'] }, () => buildGuardReasonerTwin().files),
];
