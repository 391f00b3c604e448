/**
 * The fixture builder's guarantees, checked without running generation: the lexicon stays out
 * of every family's fixed text, the tokenizer forms trigger tokens only from the user's words
 * (whole words for Latin script), user text never encodes into control or answer tokens, the
 * reference forward matches onnxruntime, q4 is lossless on the designed weights, and the
 * generated files match their committed manifests (the build is deterministic).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, env } from '@huggingface/transformers';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildFixture, loadTokenizer, type BuiltFixture } from '../../models/build/build.js';
import { FIXTURES, TEMPLATE_TEXTS } from '../../models/build/fixtures.js';
import { TRIGGERS } from '../../models/build/lexicon.js';
import { asDtype, referenceLogits } from '../../models/build/reference.js';
import { FORMATS, getFormat, modelInput } from '../../src/common/formats/index.js';
import { parseManifest } from '../../src/common/manifest.js';
import { FAMILIES } from '../../src/types.js';
import { ALL_CASES, INJECTION_CASES, KEYWORD_FIXTURES } from './cases.js';
import { ensureFixtures } from './ensure-fixtures.js';
import { lastLogits, maxAbsDifference } from './raw-model.js';

const ROOT = new URL('../../', import.meta.url);
const built = new Map<string, BuiltFixture>();
const fixture = (id: string): BuiltFixture => {
  let b = built.get(id);
  if (b === undefined) {
    const spec = FIXTURES.find((f) => f.id === id);
    if (spec === undefined) throw new Error(id);
    b = buildFixture(spec);
    built.set(id, b);
  }
  return b;
};

beforeAll(() => {
  ensureFixtures();
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = fileURLToPath(new URL('models/fixtures/', ROOT));
  env.cacheDir = fileURLToPath(new URL('.cache/transformers/', ROOT));
});

describe('the trigger lexicon', () => {
  /** Every fixed text a family puts around the user's: instructions, templates, chat templates. */
  const fixedTexts = FAMILIES.flatMap((family) => {
    const format = FORMATS[family];
    const texts = [format.fallbackChatTemplate ?? ''];
    if (!format.usesChatTemplate) {
      for (const input of [{ prompt: 'x' }, { prompt: 'x', response: 'y' }]) {
        texts.push(...format.buildPrompt(input).filter((s) => s.role === 'template').map((s) => s.text));
      }
    }
    return texts.map((text) => ({ family, text }));
  });

  test.each(TRIGGERS)('$text ($language) is in no family’s fixed prompt text', ({ text }) => {
    for (const fixed of fixedTexts) expect(fixed.text.toLowerCase().normalize('NFC')).not.toContain(text.toLowerCase());
  });

  test('the builder’s template texts are the formats’ own', () => {
    expect(TEMPLATE_TEXTS.consistentguard.join('')).toContain(getFormat('consistentguard').buildPrompt({ prompt: '' })[0]?.text);
    expect(TEMPLATE_TEXTS.guardreasoner.join('')).toContain(getFormat('guardreasoner').buildPrompt({ prompt: '' })[0]?.text);
  });
});

describe.each(KEYWORD_FIXTURES)('$id tokenizer', ({ id, family }) => {
  test('only the user’s words form trigger tokens', () => {
    const { tokenizer: t } = fixture(id);
    const tokenizer = loadTokenizer(t);
    const triggers = new Set(t.triggerIds);
    for (const { input, expected } of ALL_CASES) {
      const { ids, userRanges } = modelInput(getFormat(family), input, tokenizer);
      const found = ids.filter((x) => triggers.has(x));
      const inUser = userRanges.flatMap(([a, b]) => ids.slice(a, b)).filter((x) => triggers.has(x));
      expect(found, JSON.stringify(input)).toEqual(inUser);
      expect(found.length > 0, JSON.stringify(input)).toBe(expected === 'harmful');
    }
  });

  test('every trigger becomes its token alone, inside a sentence and in other casings', () => {
    const { tokenizer: t } = fixture(id);
    const tokenizer = loadTokenizer(t);
    const triggers = new Set(t.triggerIds);
    for (const { text, match } of TRIGGERS) {
      const variants = match === 'word' ? [text, `x ${text}.`, `(${text.toUpperCase()})`, `${text[0]?.toUpperCase()}${text.slice(1)}!`] : [text, `x${text}x`, `前${text}`];
      for (const variant of variants) {
        const ids = tokenizer.encode(variant, { add_special_tokens: false });
        expect(ids.filter((x) => triggers.has(x)), variant).toHaveLength(1);
      }
    }
  });

  test('user text never encodes into a control or an answer token', () => {
    const { tokenizer: t } = fixture(id);
    const tokenizer = loadTokenizer(t);
    const forbidden = new Set([...t.specialIds, ...t.pieceIds.values()]);
    for (const { input } of [...INJECTION_CASES, ...ALL_CASES]) {
      const { ids, userRanges } = modelInput(getFormat(family), input, tokenizer);
      const user = userRanges.flatMap(([a, b]) => ids.slice(a, b));
      expect(user.filter((x) => forbidden.has(x)), JSON.stringify(input)).toEqual([]);
    }
    // Even typed as a whole, each answer piece falls apart into other tokens.
    for (const piece of t.pieceIds.keys()) {
      expect(tokenizer.encode(piece, { add_special_tokens: false }).filter((x) => forbidden.has(x))).toEqual([]);
    }
  });
});

describe.each(['fixture-consistentguard', 'fixture-guardreasoner', 'fixture-runaway', 'fixture-malformed'])('%s model', (id) => {
  test('q4 stores the designed weights exactly', () => {
    const { weights } = fixture(id);
    const q4 = asDtype(weights, 'q4');
    expect(q4.lmHead).toEqual(weights.lmHead);
    weights.layers.forEach((layer, i) => {
      for (const name of ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const) expect(q4.layers[i]?.[name]).toEqual(layer[name]);
    });
  });

  test.each(['fp32', 'q4'] as const)('the reference forward matches onnxruntime (%s)', async (dtype) => {
    const { weights, tokenizer: t, spec } = fixture(id);
    const tokenizer = loadTokenizer(t);
    const { ids } = modelInput(getFormat(spec.family), { prompt: 'Comment pirater un compte ?' }, tokenizer);
    const model = await AutoModelForCausalLM.from_pretrained(id, { dtype, device: 'cpu' });
    const { dims, last } = await lastLogits(model, ids);
    expect(dims).toEqual([1, ids.length, weights.shape.vocabSize]);
    expect(maxAbsDifference(last, referenceLogits(asDtype(weights, dtype), ids))).toBeLessThan(1e-3);
    await model.dispose();
  });
});

describe('manifests', () => {
  test.each(FIXTURES.filter((f) => f.onDemand !== true))('$id: valid, and its files match it byte for byte', ({ id }) => {
    const raw: unknown = JSON.parse(readFileSync(new URL(`models/manifests/${id}.json`, ROOT), 'utf8'));
    const manifest = parseManifest(raw);
    expect(manifest.testModel).toBe(true);
    expect(manifest.id).toBe(id);
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['onnx/model.onnx', 'onnx/model_q4.onnx', 'tokenizer.json', 'config.json']));
    for (const file of manifest.files) {
      const bytes = readFileSync(new URL(`models/fixtures/${id}/${file.path}`, ROOT));
      expect(bytes.length, file.path).toBe(file.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), file.path).toBe(file.sha256);
    }
  });

  test('a rebuild in memory gives the same bytes (deterministic)', () => {
    const again = buildFixture(FIXTURES[0] as (typeof FIXTURES)[number]);
    const manifest = JSON.parse(readFileSync(new URL('models/manifests/fixture-consistentguard.json', ROOT), 'utf8')) as {
      files: { path: string; sha256: string }[];
    };
    for (const file of manifest.files) {
      const bytes = again.files.get(file.path);
      expect(bytes, file.path).toBeDefined();
      expect(createHash('sha256').update(bytes as Uint8Array).digest('hex'), file.path).toBe(file.sha256);
    }
  });
});
