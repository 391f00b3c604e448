/**
 * The verdict and the inputs it is made from: the types every part of lingoguard shares.
 * Plain data only, so that every value here survives structured cloning across a worker.
 */

/** The four verdicts a guard can give. `unknown` is never folded into `unharmful`. */
export const LABELS = ['harmful', 'unharmful', 'controversial', 'unknown'] as const;

/**
 * A verdict's label.
 * - `harmful` / `unharmful`: the model's answer, read in its family's format.
 * - `controversial`: a third answer some families give (Qwen3Guard); it is neither of the others.
 * - `unknown`: no well-formed answer (missing, duplicated, contradictory, cut off). Treat it as
 *   a failure of the guard, not as a pass.
 */
export type Label = (typeof LABELS)[number];

/** The guard model families whose prompt and answer formats lingoguard speaks. */
export const FAMILIES = ['consistentguard', 'guardreasoner', 'llamaguard3', 'qwen3guard'] as const;

/** A guard model family (see `../shared/notes/guard-formats.md` for each contract). */
export type Family = (typeof FAMILIES)[number];

/**
 * What to moderate: a user's prompt alone, or an AI response in the context of its prompt.
 * @example { prompt: 'How do I bake bread?' }
 * @example { prompt: 'How do I bake bread?', response: 'Mix flour, water, salt and yeast...' }
 */
export interface ModerationInput {
  /** The user's message. */
  prompt: string;
  /** The AI assistant's reply to `prompt`, when the reply is what should be judged. */
  response?: string;
}

/** A harm category in lingoguard's common vocabulary, shared by all families. */
export type CommonCategory =
  | 'violent-crimes'
  | 'non-violent-crimes'
  | 'sex-crimes'
  | 'child-exploitation'
  | 'defamation'
  | 'specialized-advice'
  | 'privacy'
  | 'intellectual-property'
  | 'indiscriminate-weapons'
  | 'hate'
  | 'self-harm'
  | 'sexual-content'
  | 'elections'
  | 'code-interpreter-abuse'
  | 'unethical-acts'
  | 'politically-sensitive'
  | 'jailbreak'
  | 'other';

/** One category a model named in its answer. */
export interface Category {
  /** The family's own id, as the model wrote it (e.g. `S2`, `PII`). */
  id: string;
  /** A readable name (e.g. `Non-Violent Crimes`). */
  name: string;
  /** The same category in the common vocabulary, to compare families. */
  common: CommonCategory;
}

/** The language a text is written in, as far as it can be told. */
export interface LanguageInfo {
  /** BCP-47-like code such as `en`, `fr`, `zh-cn`, `ja`, `bn`, `hi`; `und` when undetermined. */
  code: string;
  /** Dominant ISO 15924 script such as `Latn`, `Hani`, `Jpan`, `Beng`, `Deva`; `Zyyy` when none. */
  script: string;
  /** 0..1. Low for very short or mixed-script text: a guess, not a certainty. */
  confidence: number;
}

/** Where the time of one verdict went, in milliseconds, and how many tokens it took. */
export interface Timings {
  /** Time from the call to the verdict being readable. */
  totalMs: number;
  /** Time spent before generation started (prompt encoding, queueing, prefill). */
  firstTokenMs?: number;
  /** Time until the verdict could be parsed, when it came before the end of generation. */
  verdictMs?: number;
  /** Tokens in the model input. */
  promptTokens?: number;
  /** Of those, tokens served from the cached instruction instead of computed. */
  cachedTokens?: number;
  /** Tokens the model generated. */
  generatedTokens?: number;
  /** Of those, tokens of reasoning (before the trace closed), for reasoning models. */
  reasoningTokens?: number;
}

/** What the model's answer says about an AI response, when a response was moderated. */
export interface ResponseAssessment {
  /** Whether the response itself is harmful. */
  label: Label;
  /** Whether the assistant refused (`true`), complied (`false`), or the model did not say. */
  refusal?: boolean;
}

/** The guard's judgement of one input. */
export interface Verdict {
  /** The verdict. For response moderation, the label of what was judged last (the response). */
  label: Label;
  /** Categories the model named (empty when none or when it named `None`). */
  categories: Category[];
  /** The model's reasoning trace, without the answer tags. Empty for non-reasoning models. */
  reasoning: string;
  /**
   * Probability of `harmful` that the model gave to its verdict tokens, when the runtime could
   * read it. A model probability, not a calibrated risk.
   */
  score?: number;
  /** Language of the judged text. */
  language: LanguageInfo;
  /** Id of the model that judged. */
  model: string;
  /** Timings and token counts. */
  timings: Timings;
  /** The exact text the model generated. */
  raw: string;
  /** Why the label is `unknown`, in words, when it is. */
  problem?: string;
  /**
   * True when the runtime closed the reasoning itself (a `maxReasoningTokens` budget was
   * reached, or fast mode skipped it) before the model gave its verdict.
   */
  reasoningCut?: boolean;
  /**
   * How many overlapping windows the text was judged in, when it was longer than the model's
   * context; the verdict is the worst window's and `raw` is that window's answer.
   */
  windows?: number;
  /** For response moderation: the request's own label, as the model judged it. */
  request?: { label: Label };
  /** For response moderation: what the model said about the response. */
  response?: ResponseAssessment;
  /**
   * Whether to block the input, by the guard's fail policy: `harmful` blocks; `unharmful`
   * passes; `controversial` and `unknown` follow the `onControversial` / `onUnknown` options
   * (both block by default: fail-closed). Set on every verdict a `Guard` returns; absent only on
   * the runtime's raw verdicts, before the policy is applied.
   */
  blocked?: boolean;
}
