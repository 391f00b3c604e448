/**
 * Prompts of chat-template families, as template and user segments. The model's own template
 * renders messages whose contents are unique sentinel strings; splitting the result on the
 * sentinels gives the template's text (kept exactly as the tokenizer renders it, special
 * tokens included) and the places where the user texts go, which stay separate data.
 */
import { ModelLoadError } from '../../errors.js';
import type { ChatMessage, PromptSegment, RenderChatTemplate } from './format.js';

/** Builds the family's messages around the given contents (one per user text, in order). */
export type MessageShape = (contents: readonly string[]) => ChatMessage[];

// Private-use code points: no tokenizer template writes them, and a user text holding one is
// caught below (the sentinel is renamed until it does not occur in any text).
function sentinels(count: number, texts: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const candidate = `\uE000lingoguard-${out.length}-${i}\uE001`;
    if (!texts.some((text) => text.includes(candidate))) out.push(candidate);
  }
  return out;
}

function split(rendered: string, marks: readonly string[], texts: readonly string[]): PromptSegment[] | undefined {
  const segments: PromptSegment[] = [];
  let rest = rendered;
  for (const [i, mark] of marks.entries()) {
    const at = rest.indexOf(mark);
    if (at < 0 || rest.indexOf(mark, at + 1) >= 0) return undefined;
    segments.push({ role: 'template', text: rest.slice(0, at) }, { role: 'user', text: texts[i] ?? '' });
    rest = rest.slice(at + mark.length);
  }
  segments.push({ role: 'template', text: rest });
  return segments;
}

/**
 * Moves a single space that ends a template segment into the user segment after it. Byte-level
 * BPE tokenizers attach a space to the word that follows (`USER: Hi` is `USER`, `:`, ` Hi`), so
 * this keeps the tokens at the boundary the ones the model was trained on; the moved space is
 * the template's, and harmless as data. Moved whatever the user text starts with, so the
 * template before the first user text, the cached prefix, is the same for every input.
 */
function alignSpaces(segments: PromptSegment[]): PromptSegment[] {
  return segments.map((segment, i) => {
    const prev = segments[i - 1];
    const next = segments[i + 1];
    if (segment.role === 'user' && prev?.role === 'template' && prev.text.endsWith(' ')) {
      return { role: 'user', text: ` ${segment.text}` };
    }
    if (segment.role === 'template' && next?.role === 'user' && segment.text.endsWith(' ')) {
      return { role: 'template', text: segment.text.slice(0, -1) };
    }
    return segment;
  });
}

/**
 * The template/user segments of a chat-template prompt.
 *
 * Tries each message shape in order (templates differ: Llama Guard 3 1B reads typed content
 * parts, 8B plain strings) and keeps the first under which the template places every sentinel
 * exactly once. Then renders the real texts too and insists the segments join to exactly that
 * render: a template that rewrites content (trims, escapes) would otherwise be silently
 * misrepresented. Callers pre-apply such rewrites (Llama Guard trims) to the texts they pass.
 *
 * @param texts the user texts, already neutralized, in message order.
 * @throws ModelLoadError when no shape lets the template place the texts verbatim.
 */
export function chatSegments(
  render: RenderChatTemplate,
  shapes: readonly MessageShape[],
  texts: readonly string[],
): PromptSegment[] {
  const marks = sentinels(texts.length, texts);
  const failures: string[] = [];
  for (const shape of shapes) {
    let rendered: string;
    try {
      rendered = render(shape(marks));
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    const segments = split(rendered, marks, texts);
    if (segments === undefined) {
      failures.push('the template does not place each message content exactly once');
      continue;
    }
    const expected = render(shape(texts));
    if (segments.map((s) => s.text).join('') !== expected) {
      throw new ModelLoadError('The chat template rewrites message content, so the text to classify cannot be kept separate from it.');
    }
    return alignSpaces(segments).filter((s) => s.role === 'user' || s.text !== '');
  }
  throw new ModelLoadError(`The chat template cannot render a moderation prompt: ${failures.join('; ')}`, {
    details: { failures },
  });
}

