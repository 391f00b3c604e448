/**
 * Streaming response moderation, the caller's side: a {@link ResponseWatch} takes an AI's
 * answer chunk by chunk as it is generated, and judges the answer so far at natural
 * boundaries, one check at a time. The runtime keeps the KV cache of what each watch judged
 * (see `worker/watch.ts`), so a check costs the new text, not the whole answer again.
 *
 * Checks never pile up: while one runs, the text keeps arriving, and the next check judges
 * the answer up to its latest boundary, skipping the boundaries passed meanwhile. So a block
 * comes at most one check after the harmful sentence has ended.
 */
import { AbortedError, InvalidInputError } from './errors.js';
import { EventQueue } from './event-queue.js';
import type { ClassifyMode, Confidence, Verdict } from './types.js';

/** Options of `guard.watch()`. Every field is optional. */
export interface WatchOptions {
  /**
   * Where the answer is checked. `sentence`: at each sentence end (Unicode sentence
   * boundaries, so `。`, `।`, `?` and the rest count), and within a sentence that runs past
   * 600 characters, at its last space before that. `{ chars: n }`: every `n` characters, at the
   * last space before (or exactly there, in text without spaces).
   * @default 'sentence'
   */
  checkEvery?: 'sentence' | { chars: number };
  /**
   * How each check judges: `fast`, one forward pass on the new text (the point of a watch);
   * `auto`, the model reasons when the one-pass score is unsure; `full`, always reasoned.
   * @default 'fast'
   */
  mode?: ClassifyMode;
  /** How the final check at `end()` judges (a reasoned one gives the trace). @default the `mode` */
  finalMode?: ClassifyMode;
  /** `auto` mode's thresholds (see `ClassifyOptions.confidence`). */
  confidence?: Confidence;
  /** Reasoning budget of reasoned checks (see `ClassifyOptions.maxReasoningTokens`). */
  maxReasoningTokens?: number;
  /** Cap on generated tokens per check. */
  maxNewTokens?: number;
  /** Time limit of each check, in ms; by default the guard's `timeoutMs`. */
  timeoutMs?: number;
  /** Ends the watch like `abort()`. */
  signal?: AbortSignal;
}

/** One check of a watch. */
export interface WatchCheck {
  /** 0 for the first check, and so on. */
  index: number;
  /** The answer judged is the watched text's first `end` UTF-16 units. */
  end: number;
  /** Whether this is the check made at `end()`, on the whole answer. */
  final: boolean;
  /**
   * The verdict on the prompt and the answer up to `end`, `blocked` set by the guard's fail
   * policy. `timings.forwardTokens` is what this check cost; `timings.cachedTokens` what it
   * reused from the checks before it and the instruction cache.
   */
  verdict: Verdict;
}

/** How a watch ended. */
export interface WatchResult {
  /** Whether a check blocked the answer (then no check followed it). */
  blocked: boolean;
  /** Every check made, in order. */
  checks: WatchCheck[];
  /** The check that blocked, when one did. */
  blockedAt?: WatchCheck;
  /**
   * The last check's verdict: the blocking one, or the final check's. Undefined only for an
   * answer with no text (or only spaces), where there was nothing to judge.
   */
  verdict?: Verdict;
  /** All the text pushed. */
  text: string;
}

/** What a watch reports as it goes: each check, then how it ended. */
export type WatchEvent = { type: 'check'; check: WatchCheck } | { type: 'done'; result: WatchResult };

/**
 * An AI answer under moderation while it streams. Iterate it for its events (one consumer;
 * leaving the loop stops nothing), or read `passed` to know how much of the answer may be
 * shown.
 * @example
 * const watch = guard.watch({ prompt });
 * for await (const chunk of llm.stream(prompt)) {
 *   watch.push(chunk);
 *   if (watch.blocked) break; // nothing after the harmful part is judged
 * }
 * const { blocked, blockedAt } = await watch.end(); // the final check, on the whole answer
 */
export interface ResponseWatch extends AsyncIterable<WatchEvent> {
  /**
   * Appends the next piece of the answer. Checks start as boundaries complete; pushing never
   * waits for them. Ignored once the watch blocked, failed or was aborted.
   * @throws InvalidInputError after `end()`, or for a non-string.
   */
  push(text: string): void;
  /**
   * Ends the answer: waits for the check in progress, then judges the whole answer (the final
   * check) unless a check already blocked, or the answer has no text but spaces. Rejects with the error of a failed check (a
   * timeout, a crashed worker, `UnknownVerdictError` under `onUnknown: 'throw'`), or with
   * `AbortedError` after `abort()`: never resolves to a pass that was not judged.
   */
  end(): Promise<WatchResult>;
  /** Stops the watch: the check in progress is cancelled and `end()` rejects with `AbortedError`. */
  abort(): void;
  /** Resolves once no check is running or due for the text pushed so far. */
  settled(): Promise<void>;
  /** All the text pushed so far. */
  readonly text: string;
  /** How much of the text passed its checks (UTF-16 units from the start): safe to show. */
  readonly passed: number;
  /** Whether a check blocked. */
  readonly blocked: boolean;
  /** The checks made so far. */
  readonly checks: readonly WatchCheck[];
}

/** Judges the answer's first part in the runtime: what the guard gives a watch. */
export type WatchJudge = (response: string, check: { final: boolean; signal: AbortSignal }) => Promise<Verdict>;

/** A sentence longer than this is checked within, at a space: run-on text is never unjudged for long. */
export const MAX_SENTENCE_CHARS = 600;

type State = 'open' | 'ending' | 'done' | 'blocked' | 'failed' | 'aborted';

/**
 * The watch: text, boundaries and the one check at a time. `judge` runs a check; `release`
 * frees what the runtime keeps for the watch when it ends before its final check.
 */
export class Watch implements ResponseWatch {
  text = '';
  passed = 0;
  readonly checks: WatchCheck[] = [];
  private state: State = 'open';
  private error: unknown;
  /** The latest boundary found, and the end of the last check started. */
  private due = 0;
  private judged = 0;
  /** Where sentence segmentation restarts: the start of the sentence still being written. */
  private scanFrom = 0;
  private running: Promise<void> | undefined;
  private ending: Promise<WatchResult> | undefined;
  private idle: Array<() => void> = [];
  private readonly stop = new AbortController();
  private readonly events = new EventQueue<WatchEvent>(() => undefined);
  private readonly segmenter: Intl.Segmenter | undefined;

  constructor(
    private readonly judge: WatchJudge,
    private readonly release: () => void,
    private readonly options: Pick<WatchOptions, 'checkEvery' | 'signal'> = {},
  ) {
    this.segmenter = options.checkEvery === undefined || options.checkEvery === 'sentence'
      ? new Intl.Segmenter(undefined, { granularity: 'sentence' })
      : undefined;
    const signal = options.signal;
    if (signal?.aborted) this.abort();
    else signal?.addEventListener('abort', () => this.abort(), { once: true });
  }

  get blocked(): boolean {
    return this.state === 'blocked';
  }

  push(text: string): void {
    if (typeof text !== 'string') throw new InvalidInputError('watch.push() takes a string.', { details: { type: typeof text } });
    if (this.state === 'ending' || this.state === 'done') throw new InvalidInputError('watch.push() after end().');
    if (this.state !== 'open') return;
    this.text += text;
    this.due = Math.max(this.due, this.boundary());
    this.pump();
  }

  end(): Promise<WatchResult> {
    this.ending ??= this.finish();
    return this.ending;
  }

  abort(): void {
    if (this.state === 'done' || this.state === 'blocked' || this.state === 'failed' || this.state === 'aborted') return;
    this.fail(new AbortedError('The watch was aborted.'), 'aborted');
    this.stop.abort();
  }

  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this.events[Symbol.asyncIterator]();
  }

  /** Starts the next check when none runs and a boundary is due: at the latest one. */
  private pump(): void {
    if (this.running) return;
    if (this.state !== 'open' || this.due <= this.judged) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.running = this.check(this.due, false).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  private async check(end: number, final: boolean): Promise<void> {
    this.judged = end;
    let verdict: Verdict;
    try {
      verdict = await this.judge(this.text.slice(0, end), { final, signal: this.stop.signal });
    } catch (error) {
      this.fail(error, 'failed');
      return;
    }
    if (this.state !== 'open' && this.state !== 'ending') return; // aborted meanwhile
    const check: WatchCheck = { index: this.checks.length, end, final, verdict };
    this.checks.push(check);
    this.events.push({ type: 'check', check });
    if (verdict.blocked) {
      this.state = 'blocked';
      if (!final) this.release();
      this.done();
    } else {
      this.passed = end;
    }
  }

  private async finish(): Promise<WatchResult> {
    if (this.state === 'open') this.state = 'ending';
    while (this.running) await this.running;
    if (this.state === 'ending') {
      // An answer of nothing (or spaces) has nothing to judge, and a guard rejects empty text.
      if (this.text.trim() !== '') await this.check(this.text.length, true);
      else this.release();
      if (this.state === 'ending') {
        this.state = 'done';
        this.done();
      }
    }
    if (this.state === 'failed' || this.state === 'aborted') throw this.error;
    return this.result();
  }

  private result(): WatchResult {
    const blockedAt = this.state === 'blocked' ? this.checks.at(-1) : undefined;
    return {
      blocked: blockedAt !== undefined,
      checks: [...this.checks],
      ...(blockedAt ? { blockedAt } : {}),
      ...(this.checks.length > 0 ? { verdict: this.checks.at(-1)!.verdict } : {}),
      text: this.text,
    };
  }

  private done(): void {
    this.events.push({ type: 'done', result: this.result() });
    this.events.end();
  }

  private fail(error: unknown, state: 'failed' | 'aborted'): void {
    if (this.state !== 'open' && this.state !== 'ending') return;
    this.state = state;
    this.error = error;
    this.release();
    this.events.fail(error);
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** The latest boundary in the text: the end of its last complete sentence, or chunk. */
  private boundary(): number {
    const every = this.options.checkEvery;
    if (typeof every === 'object') {
      let at = this.due;
      while (this.text.length - at >= every.chars) at = cutBefore(this.text, at, at + every.chars);
      return at;
    }
    let at = this.due;
    const segments = [...this.segmenter!.segment(this.text.slice(this.scanFrom))];
    // The last segment may still grow: only the ones before it are known to have ended.
    for (const segment of segments.slice(0, -1)) {
      at = this.scanFrom + segment.index + segment.segment.trimEnd().length;
    }
    const last = segments.at(-1);
    if (last && segments.length > 1) this.scanFrom += last.index;
    while (this.text.length - Math.max(at, this.scanFrom) > MAX_SENTENCE_CHARS) {
      const from = Math.max(at, this.scanFrom);
      at = cutBefore(this.text, from, from + MAX_SENTENCE_CHARS);
      // Segmenting from the cut keeps each push's work to the text not yet cut.
      this.scanFrom = at;
    }
    return at;
  }
}

/** The last space in `text` after `from` and up to `limit`, or `limit` itself when there is none. */
function cutBefore(text: string, from: number, limit: number): number {
  const space = text.slice(from, limit).search(/\s\S*$/);
  return space > 0 ? from + space : limit;
}
