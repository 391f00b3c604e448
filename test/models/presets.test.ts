/**
 * The real model presets (models/manifests/*.json that are not test models): pinned, with the
 * files each dtype loads, and nothing in them that the schema would silently drop. The facts
 * themselves (revisions, sizes, hashes) and their sources are listed in models/README.md; this
 * test keeps the manifests consistent with the rules that README states.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MODEL } from '../../src/common/constants.js';
import { parseManifest, type ModelManifest } from '../../src/common/manifest.js';
import { listPresets } from '../../src/common/presets.js';
import { ModelLoadError } from '../../src/errors.js';
import type { Dtype } from '../../src/types.js';

/** transformers.js' file suffix per dtype (DEFAULT_DTYPE_SUFFIX_MAPPING in its src/utils/dtypes.js). */
const SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4', q4f16: '_q4f16' };

/** What transformers.js 4.x reads for a causal LM besides the weights. */
const LOADED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

const REAL = ['qwen3-0.6b-zeroshot', 'llama-guard-3-1b', 'guardreasoner-1b', 'guardreasoner-3b', 'consistentguard-3b', 'qwen3guard-gen-0.6b'];

/** The preset's JSON as committed, before the schema touches it. */
function raw(id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../models/manifests/${id}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** Paths of `value`'s keys, recursively ("source.kind", "files.3.sha256"). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]);
}

const modelFile = (dtype: Dtype) => `onnx/model${SUFFIX[dtype]}.onnx`;
const real = listPresets().filter((m) => !m.testModel);
const hub = real.filter((m) => m.source.kind === 'hub');
const local = real.filter((m) => m.source.kind === 'local');

test('the real presets are exactly the six documented in models/README.md', () => {
  expect(real.map((m) => m.id).sort()).toEqual([...REAL].sort());
  expect(hub.map((m) => m.id).sort()).toEqual(['llama-guard-3-1b', 'qwen3-0.6b-zeroshot']);
});

describe.each(REAL)('%s', (id) => {
  test('parses with the schema and keeps every key it was given', () => {
    const input = raw(id);
    const parsed = parseManifest(input);
    // A key the schema does not know would be dropped (or rejected): either way it is a mistake.
    expect(keyPaths(parsed)).toEqual(expect.arrayContaining(keyPaths(input)));
  });

  test("lists each dtype's model file, the files transformers.js loads, and no path twice", () => {
    const manifest = parseManifest(raw(id));
    const paths = manifest.files.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const dtype of manifest.dtypes) expect(paths).toContain(modelFile(dtype));
    if (manifest.source.kind === 'local' || manifest.id === DEFAULT_MODEL) expect(paths).toEqual(expect.arrayContaining(LOADED));
  });
});

describe.each(hub.map((m): [string, ModelManifest] => [m.id, m]))('hub preset %s', (_id, manifest) => {
  test('is pinned to a 40-hex commit, not a branch', () => {
    if (manifest.source.kind !== 'hub') throw new Error('not a hub preset');
    expect(manifest.source.revision).toMatch(/^[0-9a-f]{40}$/);
  });

  test('states a verified fact for every file, and a hash for every weight file', () => {
    expect(manifest.files.length).toBeGreaterThan(0);
    for (const file of manifest.files) expect(file.bytes !== undefined || file.sha256 !== undefined, file.path).toBe(true);
    for (const dtype of manifest.dtypes) {
      expect(manifest.files.find((f) => f.path === modelFile(dtype))?.sha256, dtype).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

test('the default preset gives size and SHA-256 of every file it loads', () => {
  const manifest = hub.find((m) => m.id === DEFAULT_MODEL);
  expect(manifest?.files.length).toBeGreaterThan(0);
  for (const file of manifest?.files ?? []) {
    expect(file.bytes, file.path).toBeGreaterThan(0);
    expect(file.sha256, file.path).toMatch(/^[0-9a-f]{64}$/);
  }
});

describe.each(local.map((m): [string, ModelManifest] => [m.id, m]))('convert-yourself preset %s', (id, manifest) => {
  test('names the checkpoint it is converted from (ConsistentGuard: weights never published)', () => {
    if (id === 'consistentguard-3b') expect(manifest.upstream).toBeUndefined();
    else expect(manifest.upstream?.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
  });

  test('claims no size or hash: those depend on the conversion', () => {
    for (const file of manifest.files) expect([file.path, file.bytes, file.sha256]).toEqual([file.path, undefined, undefined]);
  });

  test('lists the external data of its fp32 export, which is over 2 GB for every one of them', () => {
    expect(manifest.files.map((f) => f.path)).toContain('onnx/model.onnx_data');
  });
});

describe('upstream', () => {
  const base = raw('qwen3guard-gen-0.6b');

  test('Qwen3Guard-Gen is pinned to a commit', () => {
    expect(parseManifest(base).upstream?.revision).toMatch(/^[0-9a-f]{40}$/);
  });

  test.each([
    ['a short revision', { repo: 'Qwen/Qwen3Guard-Gen-0.6B', revision: 'fada3b2' }],
    ['a branch', { repo: 'Qwen/Qwen3Guard-Gen-0.6B', revision: 'main' }],
    ['an unknown key', { repo: 'Qwen/Qwen3Guard-Gen-0.6B', sha: 'fada3b2f655b89601929198343c94cd2f64d93cc' }],
    ['an empty repo', { repo: '' }],
  ])('rejects %s', (_what, upstream) => {
    expect(() => parseManifest({ ...base, upstream })).toThrow(ModelLoadError);
  });
});
