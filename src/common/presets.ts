/**
 * The models lingoguard knows by id. Their manifests are JSON in `models/manifests/`, checked
 * against the manifest schema when first used. Only the worker and Node import this module,
 * so the main-thread bundle carries none of it.
 */
import { parseManifest, type ModelManifest } from './manifest.js';
import fixtureBench from '../../models/manifests/fixture-bench.json' with { type: 'json' };
import fixtureConsistentGuard from '../../models/manifests/fixture-consistentguard.json' with { type: 'json' };
import fixtureGuardReasoner from '../../models/manifests/fixture-guardreasoner.json' with { type: 'json' };
import fixtureMalformed from '../../models/manifests/fixture-malformed.json' with { type: 'json' };
import fixtureRunaway from '../../models/manifests/fixture-runaway.json' with { type: 'json' };
import consistentguard3b from '../../models/manifests/consistentguard-3b.json' with { type: 'json' };
import guardreasoner1b from '../../models/manifests/guardreasoner-1b.json' with { type: 'json' };
import guardreasoner3b from '../../models/manifests/guardreasoner-3b.json' with { type: 'json' };
import llamaGuard3 from '../../models/manifests/llama-guard-3-1b.json' with { type: 'json' };
import qwen3ZeroShot from '../../models/manifests/qwen3-0.6b-zeroshot.json' with { type: 'json' };
import qwen3guard from '../../models/manifests/qwen3guard-gen-0.6b.json' with { type: 'json' };
import twinGuardReasoner from '../../models/manifests/twin-guardreasoner.json' with { type: 'json' };
import twinLlamaGuard3 from '../../models/manifests/twin-llama-guard-3.json' with { type: 'json' };
import twinQwen3 from '../../models/manifests/twin-qwen3.json' with { type: 'json' };
import twinQwen3Guard from '../../models/manifests/twin-qwen3guard.json' with { type: 'json' };


const RAW_PRESETS: readonly unknown[] = [
  qwen3ZeroShot,
  llamaGuard3,
  guardreasoner1b,
  guardreasoner3b,
  consistentguard3b,
  qwen3guard,
  // Test models, built by `npm run models`.
  fixtureConsistentGuard,
  fixtureGuardReasoner,
  fixtureRunaway,
  fixtureMalformed,
  fixtureBench,
  // Twins: test models laid out like the real exports (`mirrors` names which).
  twinQwen3,
  twinLlamaGuard3,
  twinQwen3Guard,
  twinGuardReasoner,
];

let presets: Map<string, ModelManifest> | undefined;

/** Every preset manifest, validated. */
export function listPresets(): ModelManifest[] {
  presets ??= new Map(RAW_PRESETS.map((raw) => parseManifest(raw)).map((m) => [m.id, m]));
  return [...presets.values()];
}

/** The preset with this id, if there is one. */
export function findPreset(id: string): ModelManifest | undefined {
  listPresets();
  return presets?.get(id);
}
