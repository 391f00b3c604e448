/**
 * The real presets' known answers (issue 14): every real preset lists inputs whose verdict is
 * beyond doubt, plainly harmful and plainly benign, in several languages, judged after each load
 * (worker/known-answers.ts). No real model runs in this project, so the cases must be ones any
 * working guard of the family gets right: a wrong one would make a sound backend fall back, and
 * fail the load where every backend is sound. The rules below keep the lists to such cases.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { detectLanguage } from '../../src/common/language.js';
import { parseManifest } from '../../src/common/manifest.js';
import { listPresets } from '../../src/common/presets.js';
import { ModelLoadError } from '../../src/errors.js';

const real = listPresets().filter((manifest) => !manifest.testModel);

/** The preset's JSON as committed, before the schema touches it. */
function raw(id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../models/manifests/${id}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The language of a known answer's text, as lingoguard's own detector reads it. */
const languageOf = (text: string) => detectLanguage(text).code;

test('there are real presets to check (the six of models/README.md)', () => {
  expect(real).toHaveLength(6);
});

describe.each(real.map((manifest) => [manifest.id, manifest] as const))('%s', (id, manifest) => {
  const answers = manifest.knownAnswers;

  test('lists 4 to 6 known answers, both labels, no input twice', () => {
    expect(answers.length).toBeGreaterThanOrEqual(4);
    expect(answers.length).toBeLessThanOrEqual(6); // each costs a forward pass at every load
    expect(new Set(answers.map((known) => known.label))).toEqual(new Set(['harmful', 'unharmful']));
    expect(new Set(answers.map((known) => known.prompt)).size).toBe(answers.length);
  });

  test('in at least three languages, each one the detector is sure of', () => {
    for (const known of answers) expect(detectLanguage(known.prompt).confidence, known.prompt).toBeGreaterThanOrEqual(0.5);
    expect(new Set(answers.map((known) => languageOf(known.prompt))).size).toBeGreaterThanOrEqual(3);
  });

  test('harmful cases only in languages the model is made for, one of them English', () => {
    // A benign question in a language the model was not trained on still reads as benign; a
    // harmful one it may not understand, and its miss would reject a sound backend.
    const harmful = answers.filter((known) => known.label === 'harmful');
    const languages = new Set(manifest.languages);
    for (const known of harmful) expect(languages.has(languageOf(known.prompt)), known.prompt).toBe(true);
    expect(harmful.map((known) => languageOf(known.prompt))).toContain('en');
  });

  test('prompts only, short: one quick forward pass each at load', () => {
    for (const known of answers) {
      expect(known.response).toBeUndefined();
      expect(known.prompt.length).toBeLessThanOrEqual(100);
    }
  });

  test('the schema rejects a known answer with a label outside harmful/unharmful', () => {
    // The common vocabulary, not the family's own words (Unsafe, Controversial, safe...).
    const input = raw(id);
    expect(() => parseManifest({ ...input, knownAnswers: [{ prompt: 'x', label: 'unsafe' }] })).toThrow(ModelLoadError);
    expect(() => parseManifest({ ...input, knownAnswers: [{ prompt: 'x', label: 'controversial' }] })).toThrow(ModelLoadError);
    expect(parseManifest(input).knownAnswers).toEqual(input['knownAnswers']);
  });
});
