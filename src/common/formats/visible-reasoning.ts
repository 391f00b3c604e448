/**
 * What a stream shows of a reasoning trace while the model writes it: the reasoning prose only.
 * The model's raw text holds the family's tags and answer lines (`…</think>\n<violations>S2
 * </violations>`, `---\n\nAnswers: …`), and a decoded delta may end inside one (`…crime.</thi`).
 * The family's own parser says what the reasoning is; this file only holds back the end of the
 * text while it may still grow into the family's closing text, so that a UI can append each
 * `reasoning` event as it comes and never shows a tag.
 */
import type { GuardFormat } from './format.js';
import { getFormat } from './index.js';
import type { Family } from '../../types.js';

/** How far back from the end a closing text can start (longer than any family's, with spaces). */
const LOOKBACK = 200;

/**
 * The reasoning in `raw`, a prefix of a model's answer, as far as it can be shown now: no tag or
 * answer line of the family, whole or partial. As `raw` grows, each result extends the one
 * before (the pane only ever appends), and the complete answer gives exactly its parsed
 * `reasoning`. Families that give no trace (Llama Guard, Qwen3Guard) show nothing.
 */
export function visibleReasoning(family: Family, raw: string): string {
  const format = getFormat(family);
  const close = format.reasoning;
  if (close === undefined) return ''; // only reasoning families have a trace to close
  if (close.isClosed(raw)) return format.parse(raw).reasoning;
  return format.parse(raw.slice(0, raw.length - unsettledTail(raw, closingTexts(format)))).reasoning;
}

/**
 * The family's closing texts with spaces removed: what its runtime writes to close a trace or
 * open the verdict (`</think>\n<violations>`, `</think>\n<judge>`, `\n\n---\n\nAnswers: \nRequest:`),
 * each piece of them alone (a model may write `<judge>` without `</think>`), and the opening
 * tag of each closing tag (a model may repeat `<think>`).
 */
function closingTexts(format: GuardFormat): string[] {
  const texts = [format.reasoning?.close, format.verdict.fastOpening?.('prompt')].filter((t) => t !== undefined);
  const pieces = texts.flatMap((text) => text.split(/\s+/));
  const openings = pieces.flatMap((piece) => /^<\/\w+>$/.test(piece) ? [piece.replace('</', '<')] : []);
  return [...new Set([...texts, ...pieces, ...openings].map(squeeze).filter((text) => text !== ''))];
}

/**
 * The length of the longest end of `raw` that may be the start of a closing text: compared
 * without case or spaces, as the parsers read tags (`< / THINK >`), and starting at a word's
 * edge, so that prose such as `a < b` shows as soon as it can no longer be a tag.
 */
function unsettledTail(raw: string, closings: readonly string[]): number {
  for (let start = Math.max(0, raw.length - LOOKBACK); start < raw.length; start++) {
    if (start > 0 && isWordChar(raw[start - 1]) && isWordChar(raw[start])) continue;
    const tail = squeeze(raw.slice(start));
    if (tail !== '' && closings.some((closing) => closing.startsWith(tail))) return raw.length - start;
  }
  return 0;
}

const squeeze = (text: string) => text.replace(/\s+/g, '').toLowerCase();
const isWordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char);

/**
 * Turns a model's raw text, pushed in deltas, into deltas of its visible reasoning (see
 * {@link visibleReasoning}): what `emit` receives, joined, is the trace as far as it can be
 * shown, and never a tag. Families without a trace emit nothing.
 */
export class ReasoningStream {
  private raw = '';
  private shown = '';

  /** Whether anything was emitted yet. */
  get started(): boolean {
    return this.shown !== '';
  }

  constructor(
    private readonly family: Family,
    private readonly emit: (delta: string) => void,
  ) {}

  /** Takes the next piece of the model's raw text. */
  push(delta: string): void {
    this.raw += delta;
    const visible = visibleReasoning(this.family, this.raw);
    // The parsed trace is trimmed: an end that shrinks (trailing space) is not taken back.
    if (visible.length > this.shown.length && visible.startsWith(this.shown)) {
      this.emit(visible.slice(this.shown.length));
      this.shown = visible;
    }
  }
}
