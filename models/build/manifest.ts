/** The manifest of a fixture: the same shape as every preset's, plus the hashes of its files. */
import { createHash } from 'node:crypto';
import type { FixtureSpec } from './fixtures.js';
import { DTYPES } from './llama-graph.js';
import { TRIGGERS } from './lexicon.js';

/** One file of a model, as a manifest lists it. */
export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** A fixture manifest (validated by `src/common/manifest.ts`'s schema in tests). */
export interface FixtureManifest {
  id: string;
  name: string;
  family: FixtureSpec['family'];
  testModel: true;
  reasoningModel: true;
  description: string;
  source: { kind: 'local'; path: string };
  dtypes: string[];
  files: ManifestFile[];
  requiredFeatures: string[];
  contextLength: number;
  languages: string[];
  license: 'MIT';
}

/** A model's files as its manifest lists them: by path, with their sizes and SHA-256. */
export function manifestFiles(files: ReadonlyMap<string, Uint8Array>): ManifestFile[] {
  return [...files]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([file, bytes]) => ({ path: file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }));
}

/** The manifest of `spec`, whose files are `files` and live in `path` (relative to the project root). */
export function manifestOf(spec: FixtureSpec, files: ReadonlyMap<string, Uint8Array>, path: string): FixtureManifest {
  return {
    id: spec.id,
    name: spec.name,
    family: spec.family,
    testModel: true,
    reasoningModel: true,
    description: spec.description,
    source: { kind: 'local', path: path.split('\\').join('/') },
    dtypes: [...DTYPES],
    files: manifestFiles(files),
    requiredFeatures: [],
    contextLength: spec.contextLength,
    languages: [...new Set(TRIGGERS.map((t) => t.language))],
    license: 'MIT',
  };
}
