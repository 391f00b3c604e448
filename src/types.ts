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

/** A guard model family (each one's prompt and answer contract is in `src/common/formats/`). */
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
  /**
   * Forward passes the model ran for this verdict: prefill chunks, decode steps, and the side
   * passes that read a verdict word of several tokens. Counted, not timed.
   */
  forwardPasses?: number;
  /**
   * Tokens those passes fed through the model: the prompt tokens not served from the cache,
   * each generated token fed back, and the verdict words' tokens. In fast mode: the uncached
   * prompt, the fast opening and the verdict words' tokens, nothing else.
   */
  forwardTokens?: number;
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
  /** Categories the model named (empty when none, when it named `None`, and for a one-pass verdict). */
  categories: Category[];
  /**
   * The model's reasoning trace, without the answer tags. Empty for non-reasoning models, and
   * for a one-pass verdict (`path: 'fast'`, which the default `auto` mode gives a confident
   * input): `guard.explain(input)` or `mode: 'full'` gives the trace.
   */
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
  /**
   * Look-alike letters of another script that were folded inside words before judging (a
   * Cyrillic `о` in `bоmb` read as the Latin `o` a reader sees), so that the guard judged what
   * a reader sees: per field and script pair (ISO 15924 codes, `from` → `to`), how many letters.
   * Never the text itself. Absent when nothing was folded.
   * @example [{ field: 'prompt', from: 'Cyrl', to: 'Latn', count: 1 }]
   */
  folded?: { field: 'prompt' | 'response'; from: string; to: string; count: number }[];
  /**
   * Which path gave the verdict, on every verdict: `fast`, the one-pass verdict and no trace
   * (`mode: 'fast'`; `auto` when the score was confident; any mode of a family that does not
   * reason); `reasoned`, the model reasoned first (`mode: 'full'`; `auto` when the one-pass
   * score was unsure, and then `score` is the reasoned one).
   */
  path: VerdictPath;
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

/** How a verdict was reached (see `Verdict.path`). */
export type VerdictPath = 'fast' | 'reasoned';

/**
 * How a call judges: `full` reasons then judges; `fast` gives the one-pass verdict and score;
 * `auto` gives the one-pass verdict when its score is confident and reasons when it is not.
 */
export type ClassifyMode = 'full' | 'fast' | 'auto';

/** `auto` mode's thresholds on the one-pass score (0 ≤ low < high ≤ 1). */
export interface Confidence {
  /** Below it: `unharmful` without reasoning. */
  low: number;
  /** Above it: `harmful` without reasoning. `{ low: 0, high: 1 }` always reasons. */
  high: number;
}

/** Where a model can run. `cpu` is onnxruntime-node, in Node only. */
export const DEVICES = ['webgpu', 'wasm', 'cpu'] as const;

/** Where the model runs (see {@link DEVICES}). */
export type Device = (typeof DEVICES)[number];

/**
 * What a caller may ask for: `auto` picks for them (see `GuardOptions.device`); `cpu` is never
 * asked for, it is what Node runs on.
 */
export const DEVICE_CHOICES = ['auto', 'webgpu', 'wasm'] as const;

/** A device as asked for (see {@link DEVICE_CHOICES}). */
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

/** Weight formats a model can ship, by transformers.js' names. */
export const DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const;

/** A weight format (see {@link DTYPES}). */
export type Dtype = (typeof DTYPES)[number];

/** What is loaded and where it runs: visible to users so that a fallback is never silent. */
export interface GuardInfo {
  /** Id of the model (a preset id, or the manifest's own id). */
  model: string;
  /** The model family whose prompt and answer format is spoken. */
  family: Family;
  /** True for lingoguard's own test models, which are not safeguards. */
  testModel: boolean;
  /** Whether the model writes a reasoning trace before its verdict. */
  reasoningModel: boolean;
  /** Where it runs: `remote` for a guard on an inference server (see {@link GuardInfo.remote}). */
  device: Device | 'remote';
  /** The weights that run; `remote` when they are the server's, whatever it loaded. */
  dtype: Dtype | 'remote';
  /** Why the device or dtype differs from what was asked or preferred, when it does. */
  fallback?: string;
  /** The model's context length in tokens. */
  contextLength: number;
  /** Milliseconds the load took (download, session creation, warm-up). */
  loadMs: number;
  /**
   * Browsers: whether this guard shares its worker and loaded model with the origin's other
   * tabs that asked for the same model, device and dtype (a SharedWorker; issue 14), and why
   * not when not. `tabs`: the tabs holding it when this one joined; `loads`: how many times
   * that worker loaded the model (1 however many tabs share it).
   */
  sharing?: { shared: boolean; reason?: string; tabs?: number; loads?: number };
  /**
   * Set when the model runs on an inference server (`createGuard({ endpoint })`): the text
   * judged leaves this machine for `url`. `notes` say, in words, what differs from running
   * the model here (what the server receives, what it computes, what is not kept here).
   */
  remote?: { url: string; model: string; notes: string[] };
}

/** The inference engines an {@link EndpointOptions | endpoint} can be (see {@link EndpointOptions.engine}). */
export const ENDPOINT_ENGINES = ['vllm', 'llama.cpp', 'tgi'] as const;
/** An inference engine whose dialect the remote backend speaks. */
export type EndpointEngine = (typeof ENDPOINT_ENGINES)[number];

/**
 * An inference server that runs the model (vLLM, llama.cpp's `llama-server` or TGI; see
 * {@link EndpointOptions.engine}): lingoguard still builds and tokenizes the prompt (the
 * tokenizer files load locally, from the model's source) and sends token ids where the engine
 * takes them, so the server's chat template never applies.
 */
export interface EndpointOptions {
  /**
   * The API's base URL, up to and including `/v1` (e.g. `http://gpu-box:8000/v1`). For TGI, its
   * native `/generate_stream` is taken beside it, at the server's root (`http://tgi:8080/generate_stream`).
   */
  url: string;
  /**
   * Which engine serves it, for the shape of its requests and answers
   * (docs/remote-engines.md):
   * - `vllm`: token ids on `/v1/completions`; top-20 logprobs; a verdict word of several
   *   tokens scored by one `echo` request.
   * - `llama.cpp` (`llama-server`): token ids on `/v1/completions`; top-20 logprobs in its chat
   *   shape; no echo, so a verdict word of several tokens costs one request per token after the
   *   first (full mode reuses the tokens it streamed); no `stop_token_ids` (the GGUF's end tokens
   *   end generation, and lingoguard's own end the stream).
   * - `tgi`: text only: the prompt is sent as the text of its exact ids to the native
   *   `/generate_stream`, which the server tokenizes itself, so special-token text in a user's
   *   input becomes special tokens there (the injection safety of exact ids is lost); scores from
   *   its top 5 (`top_n_tokens`), one request per later token of a verdict word.
   * `guard.info.remote.notes` says which applies.
   * @default 'vllm'
   */
  engine?: EndpointEngine;
  /** Sent as `Authorization: Bearer <apiKey>`; never shown in `info` or errors. */
  apiKey?: string;
  /**
   * The name the server serves the model under (`/v1/models`). By default the first of the
   * manifest's `upstream.repo`, `mirrors` and `id` that the server lists.
   */
  model?: string;
  /**
   * Longest wait for the server in one request, in ms: for its answer to start, and between
   * two chunks of a stream. The call's own `timeoutMs` bounds the whole call. @default 60000
   */
  timeoutMs?: number;
}

/**
 * Load progress, as a discriminated union on `status`.
 * - `file`: one file's bytes (`loaded` of `total`, total 0 when unknown)
 * - `total`: all files' bytes together
 * - `ready`: loaded and warmed up
 */
export type ProgressEvent =
  | { status: 'file'; file: string; loaded: number; total: number; cached?: boolean }
  | { status: 'total'; loaded: number; total: number; files: number }
  | { status: 'ready'; info: GuardInfo };

/** One step of a streamed classification. */
export type StreamEvent =
  | { type: 'reasoning'; text: string }
  | { type: 'verdict'; verdict: Verdict }
  | { type: 'done'; verdict: Verdict };
