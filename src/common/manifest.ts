/**
 * Model manifests: what a guard model is, where its files come from and what hardware it
 * needs. Presets ship as JSON in `models/manifests/`; users may pass their own object.
 */
import * as v from 'valibot';
import { ModelLoadError } from '../errors.js';
import { DTYPES, FAMILIES } from '../types.js';

const FileSchema = v.strictObject({
  path: v.pipe(v.string(), v.minLength(1)),
  bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** Lowercase hex SHA-256 of the file; checked before the model runs when given. */
  sha256: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))),
});

const SourceSchema = v.variant('kind', [
  /** A Hugging Face–style repository, pinned to a revision. */
  v.strictObject({ kind: v.literal('hub'), repo: v.string(), revision: v.string() }),
  /** A folder served over http(s), laid out like a hub repository. */
  v.strictObject({ kind: v.literal('url'), url: v.pipe(v.string(), v.url()) }),
  /** A folder relative to the local model root (the site root in a browser, the package root in Node). */
  v.strictObject({ kind: v.literal('local'), path: v.pipe(v.string(), v.minLength(1)) }),
]);

/**
 * The published checkpoint a convert-yourself preset is made from (see models/README.md).
 * lingoguard never fetches it: it tells the person converting which weights, at which
 * commit, the preset's format code was written for.
 */
const UpstreamSchema = v.strictObject({
  repo: v.pipe(v.string(), v.minLength(1)),
  /** The 40-hex commit to convert; absent where no public source pinned one. */
  revision: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{40}$/))),
});

/**
 * An input whose verdict is beyond doubt (plainly harmful, plainly benign), judged right after
 * loading: a backend that computes wrong numbers (an fp16 or q4 kernel bug) gets it wrong, and
 * the guard moves to the next dtype or device instead of giving wrong verdicts without a sign.
 */
const KnownAnswerSchema = v.strictObject({
  prompt: v.pipe(v.string(), v.minLength(1)),
  /** Present to judge a response to `prompt` rather than the prompt itself. */
  response: v.optional(v.pipe(v.string(), v.minLength(1))),
  label: v.picklist(['harmful', 'unharmful']),
});

/** The schema every manifest is validated against. */
const ManifestSchema = v.strictObject({
  id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/)),
  name: v.string(),
  family: v.picklist(FAMILIES),
  description: v.optional(v.string()),
  /** A model made for tests: never a real safeguard. */
  testModel: v.optional(v.boolean(), false),
  /** For a test model laid out like a published export: that export's repository (e.g. `onnx-community/Qwen3-0.6B-ONNX`). */
  mirrors: v.optional(v.string()),
  /** Whether the model writes reasoning before its verdict. */
  reasoningModel: v.boolean(),
  /** Whether the model was trained as a guard, or is a general model prompted zero-shot. */
  zeroShot: v.optional(v.boolean(), false),
  source: SourceSchema,
  upstream: v.optional(UpstreamSchema),
  dtypes: v.pipe(v.array(v.picklist(DTYPES)), v.minLength(1)),
  files: v.optional(v.array(FileSchema), []),
  requiredFeatures: v.optional(v.array(v.string()), []),
  contextLength: v.pipe(v.number(), v.integer(), v.minValue(16)),
  languages: v.optional(v.array(v.string()), []),
  /** Inputs judged after every load, in fast mode; a wrong one rejects that dtype and device. */
  knownAnswers: v.optional(v.array(KnownAnswerSchema), []),
  license: v.string(),
});

/** A validated model manifest. */
export type ModelManifest = v.InferOutput<typeof ManifestSchema>;

/** Validates `value` as a manifest, or throws a `ModelLoadError` that names every problem. */
export function parseManifest(value: unknown): ModelManifest {
  const result = v.safeParse(ManifestSchema, value);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => {
    const path = issue.path?.map((item) => String(item.key)).join('.') ?? '(root)';
    return `${path}: ${issue.message}`;
  });
  throw new ModelLoadError(`Invalid model manifest: ${problems.join('; ')}`, {
    details: { problems },
  });
}
