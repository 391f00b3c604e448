/**
 * Qwen3Guard-Gen: the prompt is the model's own chat template (one for prompt moderation,
 * another for response moderation, both ending with an empty `<think>\n\n</think>\n\n`);
 * {@link QWEN3GUARD_CHAT_TEMPLATE} stands in only for a tokenizer that ships none.
 *
 * Answer: `Safety: Safe|Unsafe|Controversial`, `Categories: <names>|None`, and in response
 * mode `Refusal: Yes|No`. `Controversial` is its own label, never folded into another.
 * Read: each needed line exactly once (any case, any spacing after the colon). `unknown` when
 * one is missing (cut off), repeated, holds another word, names a category outside the
 * family's list, or contradicts the verdict (`Safe` with categories, `Unsafe` with `None`).
 */
import { categoryIds } from '../categories.js';
import type { Label, ModerationInput } from '../../types.js';
import { clean, quote, readCategories, unknownAnswer } from './answer.js';
import { chatSegments, type MessageShape } from './chat-segments.js';
import type { GuardFormat, ModerationMode, ParsedAnswer, PromptSegment, RenderChatTemplate } from './format.js';
import { neutralize } from './neutralize.js';
import { requireRenderer } from './render.js';
import { QWEN3GUARD_CHAT_TEMPLATE } from './templates.js';

const SHAPES: readonly MessageShape[] = [
  (contents) => contents.map((content, i) => ({ role: i === 0 ? 'user' : 'assistant', content })),
];

function buildPrompt(input: ModerationInput, render?: RenderChatTemplate): PromptSegment[] {
  const texts = [input.prompt, ...(input.response === undefined ? [] : [input.response])].map((text) =>
    neutralize(text, 'qwen3guard'),
  );
  return chatSegments(requireRenderer(render, 'qwen3guard'), SHAPES, texts);
}

const SAFETY: Readonly<Record<string, Label>> = { safe: 'unharmful', unsafe: 'harmful', controversial: 'controversial' };

type Line = { ok: true; value: string } | { ok: false; problem: string };

/** The value of the one `name:` line, trimmed. */
function line(text: string, name: string): Line {
  const values = [...text.matchAll(new RegExp(`^[ \\t]*${name}[ \\t]*:[ \\t]*(.*)$`, 'gim'))].map((m) => (m[1] ?? '').trim());
  if (values.length === 0) return { ok: false, problem: `no "${name}:" line in the answer (cut off?)` };
  if (values.length > 1) {
    const same = values.every((v) => v.toLowerCase() === values[0]?.toLowerCase());
    return { ok: false, problem: `${same ? 'duplicated' : 'contradictory'} "${name}:" lines: ${values.join(' / ')}` };
  }
  return { ok: true, value: values[0] ?? '' };
}

function parse(generated: string, mode: ModerationMode = 'prompt'): ParsedAnswer {
  // The template already closes an empty think block; drop one the model might write anyway.
  const text = clean(generated).replace(/^<think>[\s\S]*?<\/think>/i, '');
  const safety = line(text, 'Safety');
  if (!safety.ok) return unknownAnswer(safety.problem);
  const label = SAFETY[safety.value.toLowerCase()];
  if (label === undefined) return unknownAnswer(`unrecognized safety ${quote(safety.value)}`);
  const listed = line(text, 'Categories');
  if (!listed.ok) return unknownAnswer(listed.problem);
  const read = readCategories('qwen3guard', listed.value, /,/);
  if (!read.ok) return unknownAnswer(`unrecognized category ${quote(read.unrecognized)}`);
  if (label === 'unharmful' && read.categories.length > 0) return unknownAnswer('contradictory answer: Safe, but categories named');
  if (label === 'harmful' && read.categories.length === 0) return unknownAnswer('contradictory answer: Unsafe, but no category named');
  if (mode === 'prompt') return { label, categories: read.categories, reasoning: '' };
  const refusal = line(text, 'Refusal');
  if (!refusal.ok) return unknownAnswer(refusal.problem);
  const said = refusal.value.toLowerCase();
  if (said !== 'yes' && said !== 'no') return unknownAnswer(`unrecognized refusal ${quote(refusal.value)}`);
  return { label, categories: read.categories, reasoning: '', response: { label, refusal: said === 'yes' } };
}

/**
 * Complete once the last needed line (`Categories:`, or `Refusal:` in response mode) is ended
 * by a line break: a category list may still grow (`Violent` → `Violent, Jailbreak`).
 */
function isComplete(generated: string, mode: ModerationMode = 'prompt'): boolean {
  return /^[ \t]*Safety[ \t]*:/im.test(generated) && LAST_LINE_ENDED[mode].test(generated);
}

const LAST_LINE_ENDED: Readonly<Record<ModerationMode, RegExp>> = {
  prompt: /^[ \t]*Categories[ \t]*:[^\n]*\n/im,
  response: /^[ \t]*Refusal[ \t]*:[^\n]*\n/im,
};

/**
 * A verdict that names every category (`Unsafe`, or the longer `Controversial`, which may
 * name categories too), comma-separated with and without a space, and in response mode each
 * `Refusal:` word. `Safe` answers `None`: always shorter.
 */
function longestAnswers(mode: ModerationMode): string[] {
  const answers: string[] = [];
  for (const safety of ['Unsafe', 'Controversial']) {
    for (const separator of [',', ', ']) {
      const head = `Safety: ${safety}\nCategories: ${categoryIds('qwen3guard').join(separator)}`;
      if (mode === 'prompt') answers.push(head);
      else answers.push(`${head}\nRefusal: Yes`, `${head}\nRefusal: No`);
    }
  }
  return answers;
}

/** The Qwen3Guard-Gen format. */
export const qwen3Guard: GuardFormat = Object.freeze({
  family: 'qwen3guard',
  reasoningModel: false,
  usesChatTemplate: true,
  fallbackChatTemplate: QWEN3GUARD_CHAT_TEMPLATE,
  buildPrompt,
  parse,
  isComplete,
  longestAnswers,
  verdict: {
    opening: () => /Safety[ \t]*:[ \t]*$/i,
    words: { harmful: ['Unsafe'], unharmful: ['Safe'], controversial: ['Controversial'] },
    // The answer's first line, up to its word (in both modes).
    fastOpening: () => 'Safety:',
  },
});
