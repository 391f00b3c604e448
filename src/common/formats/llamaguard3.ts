/**
 * Llama Guard 3: the prompt is the model's own chat template (S1..S13 for 1B, S14 for 8B);
 * {@link LLAMA_GUARD_3_CHAT_TEMPLATE} stands in only for a tokenizer that ships none.
 * Not a reasoning model: the answer is `safe`, or `unsafe` and a line of category ids.
 *
 * Read: the first non-empty line must be `safe` or `unsafe` (any case, a trailing `.` or `:`
 * allowed). `unsafe` needs its category line (`S1,S10`; spaces allowed), on the next line or
 * after the word; without it the answer was cut off. `unknown` also when an id is not S1..S14,
 * when `unsafe` names `None`, or when `safe` is followed by category ids (contradictory).
 * Other text after a complete answer is ignored.
 */
import { categoryIds } from '../categories.js';
import type { ModerationInput } from '../../types.js';
import { clean, quote, readCategories, unknownAnswer } from './answer.js';
import { chatSegments, type MessageShape } from './chat-segments.js';
import type { ChatMessage, GuardFormat, ParsedAnswer, PromptSegment, RenderChatTemplate } from './format.js';
import { neutralize } from './neutralize.js';
import { requireRenderer } from './render.js';
import { LLAMA_GUARD_3_CHAT_TEMPLATE } from './templates.js';

const roleOf = (i: number): ChatMessage['role'] => (i === 0 ? 'user' : 'assistant');

/** 1B's template reads typed content parts; 8B's reads plain strings. Tried in this order. */
const SHAPES: readonly MessageShape[] = [
  (contents) => contents.map((text, i) => ({ role: roleOf(i), content: [{ type: 'text', text }] })),
  (contents) => contents.map((content, i) => ({ role: roleOf(i), content })),
];

function buildPrompt(input: ModerationInput, render?: RenderChatTemplate): PromptSegment[] {
  // The template trims each message (`| trim`); trimming first keeps the text we encode equal
  // to the text the template would have placed.
  const texts = [input.prompt, ...(input.response === undefined ? [] : [input.response])].map((text) =>
    neutralize(text, 'llamaguard3').trim(),
  );
  return chatSegments(requireRenderer(render, 'llamaguard3'), SHAPES, texts);
}

const VERDICT_LINE = /^(safe|unsafe)\b[.:]?[ \t]*(.*)$/i;
const LOOKS_LIKE_IDS = /^(?:S\d+|none)\b/i;

function parse(generated: string): ParsedAnswer {
  const lines = clean(generated)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const first = lines[0];
  if (first === undefined) return unknownAnswer('the answer is empty');
  const verdict = VERDICT_LINE.exec(first);
  if (verdict === null) return unknownAnswer(`unrecognized first line ${quote(first)}`);
  const word = (verdict[1] ?? '').toLowerCase();
  const sameLine = verdict[2] ?? '';
  const ids = LOOKS_LIKE_IDS.test(sameLine) ? sameLine : lines[1] !== undefined && LOOKS_LIKE_IDS.test(lines[1]) ? lines[1] : undefined;
  if (word === 'safe') {
    return ids === undefined
      ? { label: 'unharmful', categories: [], reasoning: '' }
      : unknownAnswer(`contradictory answer: safe, then categories ${quote(ids)}`);
  }
  if (ids === undefined) return unknownAnswer('the answer was cut off after "unsafe" (no category line)');
  const read = readCategories('llamaguard3', ids, /[,\s]+/);
  if (!read.ok) return unknownAnswer(`unrecognized category ${quote(read.unrecognized)}`);
  if (read.categories.length === 0) return unknownAnswer('contradictory answer: unsafe, but no category named');
  return { label: 'harmful', categories: read.categories, reasoning: '' };
}

/**
 * Complete after `safe` and a line break, after `unsafe` and an ended category line, or after
 * a first line that is neither word (more text cannot repair it).
 */
function isComplete(generated: string): boolean {
  const lines = generated.replace(/^\s+/, '').split(/\r?\n/);
  if (lines.length < 2) return false;
  const verdict = VERDICT_LINE.exec((lines[0] ?? '').trim());
  if (verdict === null || (verdict[1] ?? '').toLowerCase() === 'safe') return true;
  if (LOOKS_LIKE_IDS.test(verdict[2] ?? '')) return true;
  // The category line may follow blank lines; it is ended once another line break follows it.
  const rest = lines.slice(1);
  const at = rest.findIndex((line) => line.trim() !== '');
  return at >= 0 && at < rest.length - 1;
}

/**
 * `unsafe` naming every category (S1..S14: 8B's list, 1B's and one more), comma-separated
 * as the model writes it, and with a space after each comma, which the parser also reads.
 * The answer opens with the blank line the model writes first.
 */
function longestAnswers(): string[] {
  return [',', ', '].map((separator) => `\n\nunsafe\n${categoryIds('llamaguard3').join(separator)}`);
}

/** The Llama Guard 3 format. */
export const llamaGuard3: GuardFormat = Object.freeze({
  family: 'llamaguard3',
  reasoningModel: false,
  usesChatTemplate: true,
  fallbackChatTemplate: LLAMA_GUARD_3_CHAT_TEMPLATE,
  buildPrompt,
  parse,
  isComplete,
  longestAnswers,
  verdict: {
    // The first word of the answer; the model writes a blank line before it.
    opening: () => /^\s*$/,
    words: { harmful: ['unsafe'], unharmful: ['safe'] },
    fastOpening: () => '\n\n',
  },
});
