/**
 * The guard runtime: loads one model and classifies inputs with it, one generation at a time
 * and in order. It is what the worker exposes, and what Node runs in-process: one class, so a
 * verdict is the same wherever it is computed.
 */
import { AbortedError, InvalidInputError, ModelLoadError } from '../src/errors.js';
import { answerAllowance } from '../src/common/formats/allowance.js';
import { getFormat, modelInput } from '../src/common/formats/index.js';
import {
  moderationMode,
  type GuardFormat,
  type ModerationMode,
  type ParsedAnswer,
  type RenderChatTemplate,
} from '../src/common/formats/format.js';
import { chatTemplateRenderer } from '../src/common/formats/render.js';
import { ReasoningStream } from '../src/common/formats/visible-reasoning.js';
import { normalizeInput, worstVerdict } from '../src/common/input.js';
import type { ModelManifest } from '../src/common/manifest.js';
import { NO_GPU, chooseBackend, crashOnDeviceLoss, probeGpu } from './backend.js';
import { verifyModelFiles } from './integrity.js';
import { resolveManifest, resolveSource } from './model-source.js';
import type { ClassifyRequest, LoadRequest, WorkerApi } from '../src/protocol.js';
import type { GuardInfo, ModerationInput, ProgressEvent, StreamEvent, Verdict } from '../src/types.js';
import { ModelSession, setOrtWasmPaths, type GenerateOptions, type Generation } from './session.js';
import { VerdictReader, wholeWordTokens } from './verdict-score.js';

/**
 * The answer's token allowance when a call sets none; also what windows leave free for it:
 * the family's longest well-formed answer in the model's own tokens, plus a margin (and the
 * trace's cap for a reasoning family).
 */
function defaultMaxNewTokens(loaded: Loaded, mode: ModerationMode): number {
  return answerAllowance(loaded.format, loaded.session.tokenizer, mode);
}

/**
 * Fast mode's verdict is `unknown` when the verdict words together get less probability than
 * this after the opening: the model would write something else there.
 */
const MIN_FAST_VERDICT_MASS = 0.25;

/** Share of a window repeated in the next one, so no word is lost at a window's edge. */
const WINDOW_OVERLAP = 0.125;

/** The language detector, loaded with the model (its trigram data weighs ~0.3 MB). */
type LanguageModule = typeof import('../src/common/language.js');

interface Loaded {
  /** Loaded with the model, not with the worker: a worker that fails before that stays light. */
  language: LanguageModule;
  manifest: ModelManifest;
  format: GuardFormat;
  session: ModelSession;
  /** The model's own chat template, for families that use one. */
  render?: RenderChatTemplate;
  /** Reads the verdict words' probabilities, for the score and fast mode. */
  reader: VerdictReader;
  info: GuardInfo;
}

/** The runtime behind a guard; see {@link WorkerApi}. */
export class GuardRuntime implements WorkerApi {
  private loaded: Loaded | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly aborted = new Set<number>();

  constructor(private readonly platform: {
    /** Reads a manifest file from a URL (browser) or a path (Node). */
    readText: (location: string) => Promise<string>;
    /** Where `local` model sources live when the load request does not say. */
    localModelRoot: string;
    isNode: boolean;
  }) {}

  async load(request: LoadRequest, onProgress?: (event: ProgressEvent) => void): Promise<GuardInfo> {
    const started = performance.now();
    const { manifest, folder } = await resolveManifest(request.model, this.platform.readText);
    const gpu = this.platform.isNode ? NO_GPU : await probeGpu();
    const choice = chooseBackend({
      requested: request.device,
      dtype: request.dtype,
      available: manifest.dtypes,
      gpu,
      isNode: this.platform.isNode,
    });
    const source = resolveSource(manifest, {
      folder,
      localModelRoot: request.localModelRoot ?? this.platform.localModelRoot,
      remoteHost: request.remoteHost,
    });
    await verifyModelFiles(manifest, source, choice.dtype, onProgress); // integrity (issue 8)
    if (request.wasmPaths) setOrtWasmPaths(request.wasmPaths);
    const session = await ModelSession.load(source, choice, onProgress);
    if (choice.device === 'webgpu') crashOnDeviceLoss(); // a lost GPU replaces the worker (issue 8)
    const format = getFormat(manifest.family);
    const info: GuardInfo = {
      model: manifest.id,
      family: manifest.family,
      testModel: manifest.testModel,
      reasoningModel: manifest.reasoningModel,
      device: choice.device,
      dtype: choice.dtype,
      ...(choice.fallback === undefined ? {} : { fallback: choice.fallback }),
      contextLength: manifest.contextLength,
      loadMs: 0,
    };
    const render = format.usesChatTemplate ? chatTemplateRenderer(session.tokenizer, format) : undefined;
    const reader = new VerdictReader(session.tokenizer, format.verdict.words, wholeWordTokens(session.tokenizer, format.verdict.words));
    const language = await import('../src/common/language.js');
    this.loaded = { manifest, format, session, info, reader, language, ...(render ? { render } : {}) };
    await this.cacheInstruction();
    if (request.warmUp !== false) await this.warmUp();
    info.loadMs = Math.round(performance.now() - started);
    onProgress?.({ status: 'ready', info });
    return info;
  }

  classify(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict> {
    const run = this.tail.then(() => this.run(request, onEvent));
    this.tail = run.catch(() => undefined);
    return run;
  }

  abort(id: number): void {
    this.aborted.add(id);
  }

  async dispose(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await this.tail;
    await loaded?.session.dispose();
  }

  private async run(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict> {
    const started = performance.now();
    try {
      if (this.aborted.has(request.id)) throw new AbortedError();
      const loaded = this.requireLoaded();
      const { input, folded } = normalizeInput(request.input);
      const windows = this.windows(loaded, input);
      const mode = moderationMode(input);
      const maxNewTokens = request.maxNewTokens ?? defaultMaxNewTokens(loaded, mode);
      let worst: { generation: Generation & { reasoningCut?: boolean }; parsed: ReturnType<GuardFormat['parse']> } | undefined;
      let verdictSent = false;
      const budget = request.mode === 'fast' ? 0 : request.maxReasoningTokens;
      for (const [index, ids] of windows.entries()) {
        // `reasoning` events carry the trace's prose only: never a tag or an answer line. A
        // text judged in several windows streams each window's trace after a blank line.
        const separator = index === 0 ? '' : '\n\n';
        const trace = onEvent && new ReasoningStream(loaded.manifest.family, (text) => {
          onEvent({ type: 'reasoning', text: trace?.started ? text : separator + text });
        });
        const options: GenerateOptions = {
          maxNewTokens,
          isComplete: (text) => loaded.format.isComplete(text, mode),
          shouldStop: () => this.aborted.has(request.id),
          ...(trace ? { onText: (text: string) => trace.push(text) } : {}),
          verdict: { opening: loaded.format.verdict.opening(mode), reader: loaded.reader },
          ...(loaded.format.reasoning ? { reasoningClosed: loaded.format.reasoning.isClosed } : {}),
          ...(request.usePrefixCache === false ? { usePrefixCache: false } : {}),
        };
        const fast = request.mode === 'fast' ? await this.fastVerdict(loaded, ids, mode, options) : undefined;
        const generation = fast?.generation ?? (await this.answer(loaded, ids, budget, options));
        if (generation.stopReason === 'aborted') throw new AbortedError();
        const parsed = fast?.parsed ?? this.parse(loaded, generation, mode);
        if (!worst || worstVerdict([worst.parsed.label, parsed.label]) !== worst.parsed.label) worst = { generation, parsed };
        if (windows.length === 1 && onEvent) {
          onEvent({ type: 'verdict', verdict: this.verdict(loaded, input, worst, started, windows, folded) });
          verdictSent = true;
        }
      }
      if (!worst) throw new InvalidInputError('Nothing to classify.');
      const verdict = this.verdict(loaded, input, worst, started, windows, folded);
      if (!verdictSent) onEvent?.({ type: 'verdict', verdict });
      onEvent?.({ type: 'done', verdict });
      return verdict;
    } finally {
      this.aborted.delete(request.id);
    }
  }

  /**
   * Fast mode in one forward pass: the family's fast opening is written after the prompt (an
   * empty trace, then the verdict's opening), both are prefilled together, and the verdict is
   * the likeliest verdict word at the next position (each word's whole token sequence, the
   * later tokens from a side pass of a few tokens), its probability the score. Undefined when
   * the family has no such opening for this mode: then fast mode lets the model write its
   * short answer after an empty trace instead.
   */
  private async fastVerdict(
    loaded: Loaded,
    ids: number[],
    mode: ModerationMode,
    options: GenerateOptions,
  ): Promise<{ generation: Generation & { reasoningCut: true }; parsed: ParsedAnswer } | undefined> {
    const opening = loaded.format.verdict.fastOpening?.(mode);
    if (opening === undefined) return undefined;
    const openingIds = loaded.session.tokenizer.encode(opening, { add_special_tokens: false });
    const read = await loaded.session.readVerdict(ids, { text: opening, ids: openingIds }, loaded.reader, options);
    const { reading } = read;
    const word = reading ? loaded.session.tokenizer.decode([...reading.ids], { skip_special_tokens: true }) : '';
    const text = opening + word;
    options.onText?.(text);
    const mass = reading ? Object.values(reading.mass).reduce((sum, p) => sum + p, 0) : 0;
    // A model that would write something else here has given no verdict: never a silent pass.
    const parsed: ParsedAnswer = reading && mass >= MIN_FAST_VERDICT_MASS
      ? { label: reading.label, categories: [], reasoning: '' }
      : {
          label: 'unknown',
          categories: [],
          reasoning: '',
          problem: `after ${JSON.stringify(opening)} the model gives its verdict words ${(mass * 100).toPrecision(2)}% probability: it would write something else`,
        };
    return {
      generation: {
        text,
        ids: [...(reading?.ids ?? [])],
        tokens: reading?.ids.length ?? 0,
        stopReason: read.aborted ? 'aborted' : 'complete',
        firstTokenMs: read.firstTokenMs,
        completeMs: read.firstTokenMs,
        cachedTokens: read.cachedTokens,
        forwardPasses: read.forwardPasses,
        forwardTokens: read.forwardTokens,
        ...(reading ? { score: reading.score } : {}),
        reasoningTokens: 0,
        reasoningCut: true,
      },
      parsed,
    };
  }

  /** Reads an answer; one that greedy decoding ended in a loop is `unknown`, and says so. */
  private parse(loaded: Loaded, generation: Generation, mode: ModerationMode): ParsedAnswer {
    const parsed = loaded.format.parse(generation.text, mode);
    if (generation.stopReason !== 'loop') return parsed;
    return { label: 'unknown', categories: [], reasoning: parsed.reasoning, problem: generation.problem ?? 'the model repeats itself' };
  }

  /**
   * Generates one answer. With a reasoning budget (0 in fast mode), the trace is cut at that
   * many tokens: the runtime writes the family's closing text itself and the model goes on
   * with its verdict from there, so the verdict comes even when the reasoning would not end.
   */
  private async answer(
    loaded: Loaded,
    ids: number[],
    budget: number | undefined,
    options: GenerateOptions,
  ): Promise<Generation & { reasoningCut?: boolean }> {
    const close = loaded.format.reasoning;
    if (budget === undefined || close === undefined) return loaded.session.generate(ids, options);
    let reasoning: Generation | undefined;
    if (budget > 0) {
      reasoning = await loaded.session.generate(ids, { ...options, maxNewTokens: Math.min(budget, options.maxNewTokens) });
      const finished = reasoning.stopReason !== 'limit' || close.isClosed(reasoning.text);
      if (finished || budget >= options.maxNewTokens) return reasoning;
    }
    const closeIds = loaded.session.tokenizer.encode(close.close, { add_special_tokens: false });
    const priorText = (reasoning?.text ?? '') + close.close;
    options.onText?.(close.close);
    const rest = await loaded.session.generate([...ids, ...(reasoning?.ids ?? []), ...closeIds], {
      ...options,
      maxNewTokens: Math.max(1, options.maxNewTokens - (reasoning?.tokens ?? 0)),
      priorText,
    });
    return {
      ...rest,
      text: priorText + rest.text,
      ids: [...(reasoning?.ids ?? []), ...closeIds, ...rest.ids],
      tokens: (reasoning?.tokens ?? 0) + rest.tokens,
      forwardPasses: (reasoning?.forwardPasses ?? 0) + rest.forwardPasses,
      forwardTokens: (reasoning?.forwardTokens ?? 0) + rest.forwardTokens,
      reasoningTokens: reasoning?.tokens ?? 0,
      firstTokenMs: reasoning?.firstTokenMs ?? rest.firstTokenMs,
      reasoningCut: true,
    };
  }

  /**
   * The model input as one or more id windows. Text longer than the context is never cut
   * silently: the last user segment is split into overlapping windows, each judged on its
   * own with the whole template, and the worst verdict wins.
   */
  private windows(loaded: Loaded, input: ModerationInput): number[][] {
    const encoded = modelInput(loaded.format, input, loaded.session.tokenizer, loaded.render);
    const budget = Math.max(16, loaded.manifest.contextLength - defaultMaxNewTokens(loaded, moderationMode(input)));
    if (encoded.ids.length <= budget) return [encoded.ids];
    const [start, end] = encoded.userRanges.at(-1) ?? [0, 0];
    const fixed = encoded.ids.length - (end - start);
    const room = budget - fixed;
    if (room < 16) {
      throw new InvalidInputError(
        `The input is too long for ${loaded.manifest.id}: ${encoded.ids.length} tokens, context ${loaded.manifest.contextLength}.`,
        { details: { tokens: encoded.ids.length, contextLength: loaded.manifest.contextLength } },
      );
    }
    const step = Math.max(1, Math.floor(room * (1 - WINDOW_OVERLAP)));
    const before = encoded.ids.slice(0, start);
    const after = encoded.ids.slice(end);
    const windows: number[][] = [];
    for (let from = start; from < end; from += step) {
      windows.push([...before, ...encoded.ids.slice(from, Math.min(end, from + room)), ...after]);
      if (from + room >= end) break;
    }
    return windows;
  }

  private verdict(
    loaded: Loaded,
    input: ModerationInput,
    judged: { generation: Generation & { reasoningCut?: boolean }; parsed: ReturnType<GuardFormat['parse']> },
    started: number,
    windows: number[][],
    folded: NonNullable<Verdict['folded']>,
  ): Verdict {
    const { generation, parsed } = judged;
    const promptTokens = windows.reduce((sum, ids) => sum + ids.length, 0);
    return {
      label: parsed.label,
      categories: parsed.categories,
      reasoning: parsed.reasoning,
      ...(generation.score === undefined ? {} : { score: generation.score }),
      ...(generation.reasoningCut ? { reasoningCut: true } : {}),
      language: loaded.language.detectLanguage(input.response ?? input.prompt),
      model: loaded.manifest.id,
      timings: {
        totalMs: Math.round(performance.now() - started),
        firstTokenMs: Math.round(generation.firstTokenMs),
        ...(generation.completeMs === undefined ? {} : { verdictMs: Math.round(generation.completeMs) }),
        promptTokens,
        cachedTokens: generation.cachedTokens,
        generatedTokens: generation.tokens,
        ...(generation.reasoningTokens === undefined ? {} : { reasoningTokens: generation.reasoningTokens }),
        forwardPasses: generation.forwardPasses,
        forwardTokens: generation.forwardTokens,
      },
      // The judged window's answer: for a text judged in windows, the worst one.
      raw: generation.text,
      ...(windows.length > 1 ? { windows: windows.length } : {}),
      ...(folded.length > 0 ? { folded } : {}),
      ...(parsed.problem === undefined ? {} : { problem: parsed.problem }),
      ...(parsed.request === undefined ? {} : { request: parsed.request }),
      ...(parsed.response === undefined ? {} : { response: parsed.response }),
    };
  }

  /**
   * Prefills the family's fixed instruction (everything before the user's text) once: every
   * call starts with the same ids, so their KV cache is computed here and copied per call.
   */
  private async cacheInstruction(): Promise<void> {
    const loaded = this.requireLoaded();
    const probe = modelInput(loaded.format, { prompt: 'x' }, loaded.session.tokenizer, loaded.render);
    const userStart = probe.userRanges[0]?.[0] ?? 0;
    await loaded.session.cachePrefix(probe.ids.slice(0, userStart));
  }

  private async warmUp(): Promise<void> {
    const loaded = this.requireLoaded();
    const { ids } = modelInput(loaded.format, { prompt: 'Hello.' }, loaded.session.tokenizer, loaded.render);
    await loaded.session.generate(ids, { maxNewTokens: 1, isComplete: () => false, shouldStop: () => false });
  }

  private requireLoaded(): Loaded {
    if (!this.loaded) throw new ModelLoadError('No model is loaded: call load() first.');
    return this.loaded;
  }
}
