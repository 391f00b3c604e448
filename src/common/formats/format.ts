/**
 * The contract every guard model family implements: how to build its model input and how to
 * read its answer. Pure functions of text, so they run the same on the main thread, in a
 * worker and in Node.
 */
import type { Category, Family, Label, ModerationInput, ResponseAssessment } from '../../types.js';

/**
 * A piece of the model input. `template` pieces are the family's own text and may contain its
 * special tokens; `user` pieces are the text to classify: data that is encoded so that it can
 * never become a special token or close a tag of the template.
 */
export interface PromptSegment {
  role: 'template' | 'user';
  text: string;
}

/** One typed piece of a chat message's content (templates such as Llama Guard 3 1B's read these). */
export interface ChatContentPart {
  type: 'text';
  text: string;
}

/** A chat message as tokenizer chat templates take it. */
export interface ChatMessage {
  role: 'user' | 'assistant' | 'system';
  /** Plain text, or typed parts for templates that iterate over `content` parts. */
  content: string | ChatContentPart[];
}

/** Renders messages through a model's own chat template (the tokenizer's), as text. */
export type RenderChatTemplate = (messages: ChatMessage[]) => string;

/**
 * What is being judged: the user's prompt alone, or an AI response to it. Parsers need it
 * because the same answer format carries different verdict lines in each case.
 */
export type ModerationMode = 'prompt' | 'response';

/** The mode of an input: `response` exactly when a response is given. */
export function moderationMode(input: ModerationInput): ModerationMode {
  return input.response === undefined ? 'prompt' : 'response';
}

/** A model answer read in its family's format. */
export interface ParsedAnswer {
  /** The verdict on what was judged last (the prompt, or the response when one was given). */
  label: Label;
  categories: Category[];
  /** The reasoning trace without the answer's tags. */
  reasoning: string;
  /** Why `label` is `unknown`, when it is. */
  problem?: string;
  /** For response moderation: the model's verdict on the request. */
  request?: { label: Label };
  /** For response moderation: the model's verdict on the response. */
  response?: ResponseAssessment;
}

/** One guard model family's prompt builder and answer parser. */
export interface GuardFormat {
  readonly family: Family;
  /** Whether the family writes a reasoning trace before its verdict. */
  readonly reasoningModel: boolean;
  /** Whether the prompt comes from the model's own chat template (given to `buildPrompt`). */
  readonly usesChatTemplate: boolean;
  /**
   * The family's chat template as published with its reference model, for a tokenizer that
   * ships none. Only for `usesChatTemplate` families; a model's own template always wins.
   */
  readonly fallbackChatTemplate?: string;
  /**
   * The model input for `input`, as template and user segments in order.
   * @param renderChatTemplate the tokenizer's own template; required when `usesChatTemplate`.
   */
  buildPrompt(input: ModerationInput, renderChatTemplate?: RenderChatTemplate): PromptSegment[];
  /**
   * Reads generated text (cut at the end token) into a verdict; malformed answers are `unknown`.
   * @param mode what was judged; `prompt` unless a response was given.
   */
  parse(generated: string, mode?: ModerationMode): ParsedAnswer;
  /**
   * Whether `generated`, a prefix of a stream, already holds the complete answer, so generation
   * can stop there. Never true while the last needed word or line may still grow.
   */
  isComplete(generated: string, mode?: ModerationMode): boolean;
  /**
   * The longest answers the format reads as well formed in `mode`, one per verdict shape and
   * spelling (for a reasoning family, what follows the trace, from its closing text on). The
   * answer allowance is counted from these with the model's own tokenizer
   * (`answerAllowance`), so a verdict with every category is never cut off.
   */
  longestAnswers(mode: ModerationMode): readonly string[];
  /** Where the verdict word is written, so its probability can be read as a score. */
  readonly verdict: VerdictSlot;
  /** For reasoning families: how the trace ends, to cut it at a budget or skip it (fast mode). */
  readonly reasoning?: ReasoningClose;
}

/**
 * How a reasoning family's trace is closed. A runtime that must stop the reasoning (a token
 * budget, or fast mode with no trace at all) writes `close` itself and lets the model go on
 * with its verdict from there.
 */
export interface ReasoningClose {
  /** The text that ends the trace and opens the answer (e.g. `</think>\n<violations>`). */
  close: string;
  /** Whether `generated` has already left the reasoning. */
  isClosed(generated: string): boolean;
}

/**
 * Where in an answer the verdict word comes, and which words are which: the runtime reads
 * the model's probability of each word at that point.
 */
export interface VerdictSlot {
  /** Matches the end of the text generated so far when the next word is the verdict. */
  opening(mode: ModerationMode): RegExp;
  /**
   * The words that mean `harmful` and `unharmful` (and `controversial`, for a family that has
   * that label), as the model writes them.
   */
  words: { harmful: readonly string[]; unharmful: readonly string[]; controversial?: readonly string[] };
  /**
   * The text that, written right after the prompt, makes the verdict the very next word (for
   * reasoning families it skips the trace), so that fast mode reads it from one forward pass.
   * Undefined for a mode where that would mean writing part of the verdict for the model.
   */
  fastOpening?(mode: ModerationMode): string | undefined;
}
