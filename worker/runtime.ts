/**
 * The guard runtime: loads one model and classifies inputs with it, one generation at a time
 * and in order. It is what the worker exposes, and what Node runs in-process: one class, so a
 * verdict is the same wherever it is computed.
 */
import { AbortedError, BackendUnavailableError, InvalidInputError, ModelLoadError } from '../src/errors.js';
import { AUTO_REASONING_TOKENS, DEFAULT_CONFIDENCE, DEFAULT_MODE } from '../src/common/constants.js';
import type { EncodedPrompt } from '../src/common/formats/encode.js';
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
import { knownAnswerFallback, knownAnswerProblem, nextBackend, type FailedBackend } from './known-answers.js';

/** Request id of the known-answer check's calls (callers' ids are positive). */
const KNOWN_ANSWER_ID = -14;
import { resolveManifest, resolveSource } from './model-source.js';
import type { ClassifyRequest, LoadRequest, WorkerApi } from '../src/protocol.js';
import type { ClassifyMode, Device, GuardInfo, ModerationInput, ProgressEvent, StreamEvent, Verdict, VerdictPath } from '../src/types.js';
import { ModelSession, setOrtWasmPaths, type GenerateOptions, type Generation, type GuardSession, type Prefilled, type Work } from './session.js';
import { RemoteSession } from './remote-session.js';
import type { ResolvedSource } from './model-source.js';
import { VerdictReader, wholeWordTokens } from './verdict-score.js';
import { WatchCaches } from './watch.js';

/**
 * The answer's token allowance when a call sets none; also what windows leave free for it:
 * the family's longest well-formed answer in the model's own tokens, plus a margin (and the
 * trace's cap for a reasoning family).
 */
function defaultMaxNewTokens(loaded: Loaded, mode: ModerationMode): number {
  return answerAllowance(loaded.format, loaded.session.tokenizer, mode);
}

/** A generation that never started: the call was aborted while its prompt was prefilled. */
function abortedGeneration(work: Work): Generation {
  return { ...work, text: '', ids: [], tokens: 0, stopReason: 'aborted', firstTokenMs: 0 };
}

/**
 * Fast mode's verdict is `unknown` when the verdict words together get less probability than
 * this after the opening: the model would write something else there.
 */
const MIN_FAST_VERDICT_MASS = 0.25;

/** Share of a window repeated in the next one, so no word is lost at a window's edge. */
const WINDOW_OVERLAP = 0.125;

/** A generation and how it reads, with how the runtime reached it. */
interface Judged {
  generation: Generation & { reasoningCut?: boolean; path: VerdictPath };
  parsed: ParsedAnswer;
}

/** The work of several passes for one verdict, added up; `cachedTokens` is the first one's. */
function addWork<G extends Work>(generation: G, first: Work, ...more: Work[]): G {
  const all = [first, generation, ...more];
  return {
    ...generation,
    cachedTokens: first.cachedTokens,
    forwardPasses: all.reduce((sum, work) => sum + work.forwardPasses, 0),
    forwardTokens: all.reduce((sum, work) => sum + work.forwardTokens, 0),
  };
}

/** The language detector, loaded with the model (its trigram data weighs ~0.3 MB). */
type LanguageModule = typeof import('../src/common/language.js');

interface Loaded {
  /** Loaded with the model, not with the worker: a worker that fails before that stays light. */
  language: LanguageModule;
  manifest: ModelManifest;
  format: GuardFormat;
  session: GuardSession;
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
  private readonly watches = new WatchCaches(() => this.requireLoaded().session);
  /** The device whose onnxruntime wasm files this worker's first load set, and their URL. */
  private ortBuild: { device: Device; wasm: string | undefined } | undefined;
  /** Sessions this runtime let go of (see `crashOnDeviceLoss`). */
  private readonly released = new WeakSet<GuardSession>();

  constructor(private readonly platform: {
    /** Reads a manifest file from a URL (browser) or a path (Node). */
    readText: (location: string) => Promise<string>;
    /** Where `local` model sources live when the load request does not say. */
    localModelRoot: string;
    isNode: boolean;
    /**
     * The app's own onnxruntime-web wasm files for a device (browser only): set before the
     * first session, since a worker loads onnxruntime's wasm once and keeps it.
     */
    ortFiles?: (device: Device) => { wasm: string; mjs: string };
  }) {}

  /** @param failed backends that failed the known-answer check in this load (issue 14). */
  async load(request: LoadRequest, onProgress?: (event: ProgressEvent) => void, failed: FailedBackend[] = []): Promise<GuardInfo> {
    if (request.endpoint) return this.loadRemote(request, request.endpoint, onProgress);
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
    const wasmPaths = request.wasmPaths ?? this.platform.ortFiles?.(choice.device);
    if (wasmPaths) setOrtWasmPaths(wasmPaths);
    // onnxruntime keeps the wasm build of this worker's first session: a later load on another
    // device (the known-answer fallback from WebGPU) runs on that build, which may lack kernels.
    const firstBuild = (this.ortBuild ??= { device: choice.device, wasm: wasmPaths?.wasm });
    const session = await ModelSession.load(source, choice, onProgress).catch((error: unknown) => {
      if (firstBuild.wasm === wasmPaths?.wasm) throw error;
      throw new BackendUnavailableError(
        `${manifest.id} could not load on ${choice.device} (${choice.dtype}) in this worker, which holds onnxruntime's build for ${firstBuild.device}; create the guard with device: "${choice.device}". ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { model: manifest.id, device: choice.device, dtype: choice.dtype } },
      );
    });
    // A lost GPU replaces the worker (issue 8), unless the loss is ORT freeing this model's device.
    if (choice.device === 'webgpu') crashOnDeviceLoss(() => this.released.has(session));
    const format = getFormat(manifest.family);
    const info: GuardInfo = {
      model: manifest.id,
      family: manifest.family,
      testModel: manifest.testModel,
      reasoningModel: manifest.reasoningModel,
      device: choice.device,
      dtype: choice.dtype,
      ...(choice.fallback === undefined && failed.length === 0
        ? {}
        : { fallback: [knownAnswerFallback(failed), choice.fallback].filter(Boolean).join('; ') }),
      contextLength: manifest.contextLength,
      loadMs: 0,
    };
    const render = format.usesChatTemplate ? chatTemplateRenderer(session.tokenizer, format) : undefined;
    const reader = new VerdictReader(session.tokenizer, format.verdict.words, wholeWordTokens(session.tokenizer, format.verdict.words));
    const language = await import('../src/common/language.js');
    this.loaded = { manifest, format, session, info, reader, language, ...(render ? { render } : {}) };
    await this.cacheInstruction();
    // Known answers judged wrong: this backend computes wrong numbers; load the next one.
    const wrong = await knownAnswerProblem(manifest, (input) => this.run({ id: KNOWN_ANSWER_ID, input, mode: 'fast' }));
    if (wrong !== undefined) {
      const failures = [...failed, { device: choice.device, dtype: choice.dtype, reason: wrong }];
      await this.dispose();
      const next = nextBackend(manifest, failures, { gpu, isNode: this.platform.isNode }); // typed error when none is left
      return this.load({ ...request, device: next.device === 'cpu' ? 'auto' : next.device, dtype: next.dtype }, onProgress, failures);
    }
    if (request.warmUp !== false) await this.warmUp();
    info.loadMs = Math.round(performance.now() - started);
    onProgress?.({ status: 'ready', info });
    return info;
  }

  classify(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict> {
    // The caller's clock started when it sent the call: waiting in this queue counts.
    const deadline = request.timeoutMs === undefined ? undefined : Date.now() + request.timeoutMs;
    const run = this.tail.then(() => this.run(request, onEvent, deadline));
    this.tail = run.catch(() => undefined);
    return run;
  }

  abort(id: number): void {
    this.aborted.add(id);
  }

  /** Frees watch `id`'s cache, after the generation in progress (which may be using it). */
  endWatch(id: number): Promise<void> {
    const run = this.tail.then(() => (this.loaded ? this.watches.end(id) : undefined));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await this.tail;
    if (!loaded) return;
    await this.watches.clear(loaded.session);
    this.released.add(loaded.session);
    await loaded.session.dispose();
  }

  private async run(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void, deadline?: number): Promise<Verdict> {
    const started = performance.now();
    try {
      if (this.aborted.has(request.id)) throw new AbortedError();
      const loaded = this.requireLoaded();
      const { input, folded } = normalizeInput(request.input);
      const { windows, encoded } = this.windows(loaded, input);
      const mode = moderationMode(input);
      const maxNewTokens = request.maxNewTokens ?? defaultMaxNewTokens(loaded, mode);
      const callMode = request.mode ?? DEFAULT_MODE;
      // A watch's check continues from what the watch judged before; a text too long for one
      // window is judged from scratch, in windows, like any other.
      const watch = request.watch && windows.length === 1 ? request.watch : undefined;
      let worst: Judged | undefined;
      let verdictSent = false;
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
          ...(deadline === undefined ? {} : { deadline }),
        };
        const trunk = watch ? await this.watches.advance(watch.id, encoded, options) : undefined;
        if (trunk && !trunk.prefilled) throw new AbortedError();
        const judged = await this.judge(loaded, ids, mode, callMode, request, options, trunk?.prefilled);
        if (judged.generation.stopReason === 'aborted') throw new AbortedError();
        if (trunk) judged.generation = addWork(judged.generation, trunk);
        if (!worst || worstVerdict([worst.parsed.label, judged.parsed.label]) !== worst.parsed.label) worst = judged;
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
      if (request.watch?.final && this.loaded) await this.watches.end(request.watch.id);
    }
  }

  /**
   * One window's verdict in `callMode`, continuing from `from` (a watch's trunk) when given.
   * `path` says whether the model reasoned for it.
   */
  private async judge(
    loaded: Loaded,
    ids: number[],
    mode: ModerationMode,
    callMode: ClassifyMode,
    request: ClassifyRequest,
    options: GenerateOptions,
    from?: Prefilled,
  ): Promise<Judged> {
    if (callMode === 'auto' && loaded.format.reasoning) return this.auto(loaded, ids, mode, request, options, from);
    if (callMode === 'full') {
      const generation = await this.answer(loaded, ids, request.maxReasoningTokens, options, from);
      const path: VerdictPath = loaded.format.reasoning ? 'reasoned' : 'fast';
      return { generation: { ...generation, path }, parsed: this.parse(loaded, generation, mode) };
    }
    // `fast`, and `auto` for a family that does not reason: its one-pass verdict is all it has.
    const fast = await this.fastVerdict(loaded, ids, mode, options, from);
    if (fast) return { generation: { ...fast.generation, path: 'fast' }, parsed: fast.parsed };
    const generation = await this.answer(loaded, ids, 0, options, from);
    return { generation: { ...generation, path: 'fast' }, parsed: this.parse(loaded, generation, mode) };
  }

  /**
   * `auto` mode: the prompt is prefilled once and kept; the one-pass verdict is read from a
   * branch of it, and when its score is unsure (between the thresholds, or no well-formed
   * verdict) the model reasons from that same prefilled prompt, within the reasoning budget:
   * the prompt is never computed twice.
   */
  private async auto(
    loaded: Loaded,
    ids: number[],
    mode: ModerationMode,
    request: ClassifyRequest,
    options: GenerateOptions,
    from?: Prefilled,
  ): Promise<Judged> {
    const prompt = await loaded.session.extend(ids, options, from);
    if (!prompt.prefilled) {
      return { generation: { ...abortedGeneration(prompt), path: 'fast' }, parsed: { label: 'unknown', categories: [], reasoning: '' } };
    }
    const prefilled = prompt.prefilled;
    try {
      // The one-pass step writes no trace: only the reasoned path streams reasoning.
      const { onText: _unused, ...quiet } = options;
      const fast = await this.fastVerdict(loaded, ids, mode, quiet, prefilled);
      const shortAnswer = fast ? undefined : await this.answer(loaded, ids, 0, quiet, prefilled);
      const one = fast ?? { generation: shortAnswer!, parsed: this.parse(loaded, shortAnswer!, mode) };
      const { low, high } = request.confidence ?? DEFAULT_CONFIDENCE;
      const score = one.generation.score;
      const sure = one.parsed.label !== 'unknown' && score !== undefined && (score < low || score > high);
      if (sure || one.generation.stopReason === 'aborted') {
        return { generation: { ...addWork(one.generation, prompt), path: 'fast' }, parsed: one.parsed };
      }
      const budget = request.maxReasoningTokens ?? AUTO_REASONING_TOKENS;
      const reasoned = await this.answer(loaded, ids, budget, options, prefilled);
      return {
        generation: { ...addWork(reasoned, prompt, one.generation), path: 'reasoned' },
        parsed: this.parse(loaded, reasoned, mode),
      };
    } finally {
      if (prefilled !== from) await loaded.session.release(prefilled);
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
    from?: Prefilled,
  ): Promise<{ generation: Generation & { reasoningCut: true }; parsed: ParsedAnswer } | undefined> {
    const opening = loaded.format.verdict.fastOpening?.(mode);
    if (opening === undefined) return undefined;
    const openingIds = loaded.session.tokenizer.encode(opening, { add_special_tokens: false });
    const read = await loaded.session.readVerdict(ids, { text: opening, ids: openingIds }, loaded.reader, options, from);
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
    from?: Prefilled,
  ): Promise<Generation & { reasoningCut?: boolean }> {
    const close = loaded.format.reasoning;
    if (budget === undefined || close === undefined) return loaded.session.generate(ids, options, from);
    let reasoning: Generation | undefined;
    if (budget > 0) {
      reasoning = await loaded.session.generate(ids, { ...options, maxNewTokens: Math.min(budget, options.maxNewTokens) }, from);
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
    }, from);
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
  private windows(loaded: Loaded, input: ModerationInput): { windows: number[][]; encoded: EncodedPrompt } {
    const encoded = modelInput(loaded.format, input, loaded.session.tokenizer, loaded.render);
    const budget = Math.max(16, loaded.manifest.contextLength - defaultMaxNewTokens(loaded, moderationMode(input)));
    if (encoded.ids.length <= budget) return { windows: [encoded.ids], encoded };
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
    return { windows, encoded };
  }

  private verdict(
    loaded: Loaded,
    input: ModerationInput,
    judged: Judged,
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
      path: judged.generation.path,
      ...(folded.length > 0 ? { folded } : {}),
      ...(parsed.problem === undefined ? {} : { problem: parsed.problem }),
      ...(parsed.request === undefined ? {} : { request: parsed.request }),
      ...(parsed.response === undefined ? {} : { response: parsed.response }),
    };
  }

  /**
   * Loads a guard whose model runs on an inference server: the manifest and the tokenizer
   * files come from the model's source as for any model (verified by their hashes; the weights
   * are neither fetched nor checked), the server must list the model at `/v1/models`, and it
   * must give the manifest's known answers, or the load fails with `ModelLoadError`: a server
   * that computes another model never gets to give verdicts.
   */
  private async loadRemote(request: LoadRequest, endpoint: NonNullable<LoadRequest['endpoint']>, onProgress?: (event: ProgressEvent) => void): Promise<GuardInfo> {
    const started = performance.now();
    const { manifest, folder } = await resolveManifest(request.model, this.platform.readText);
    const source = resolveSource(manifest, {
      folder,
      localModelRoot: request.localModelRoot ?? this.platform.localModelRoot,
      remoteHost: request.remoteHost,
    });
    const tokenizerOnly = { ...manifest, files: manifest.files.filter((file) => !file.path.startsWith('onnx/')) };
    await verifyModelFiles(tokenizerOnly, source, manifest.dtypes[0]!, onProgress);
    const config = await this.sourceJson(source, 'config.json');
    const generation = await this.sourceJson(source, 'generation_config.json');
    const session = await RemoteSession.load(source, manifest, endpoint, { eos: config?.['eos_token_id'], generationEos: generation?.['eos_token_id'] });
    const format = getFormat(manifest.family);
    const host = new URL(session.url).host;
    const info: GuardInfo = {
      model: manifest.id,
      family: manifest.family,
      testModel: manifest.testModel,
      reasoningModel: manifest.reasoningModel,
      device: 'remote',
      dtype: 'remote',
      contextLength: manifest.contextLength,
      loadMs: 0,
      remote: {
        url: session.url,
        model: session.servedModel,
        // What differs per engine (what it receives, how scores are read) is the session's to say.
        notes: [`the text judged is sent to ${host}`, ...session.notes],
      },
    };
    const render = format.usesChatTemplate ? chatTemplateRenderer(session.tokenizer, format) : undefined;
    const reader = new VerdictReader(session.tokenizer, format.verdict.words, wholeWordTokens(session.tokenizer, format.verdict.words));
    const language = await import('../src/common/language.js');
    this.loaded = { manifest, format, session, info, reader, language, ...(render ? { render } : {}) };
    const wrong = await knownAnswerProblem(manifest, (input) => this.run({ id: KNOWN_ANSWER_ID, input, mode: 'fast' }));
    if (wrong !== undefined) {
      await this.dispose();
      throw new ModelLoadError(`The server at ${session.url} does not compute ${manifest.id} as it should (it serves other weights, or computes wrong numbers): ${wrong}.`, {
        details: { url: session.url, model: manifest.id, served: session.servedModel },
      });
    }
    if (request.warmUp !== false) await this.warmUp();
    info.loadMs = Math.round(performance.now() - started);
    onProgress?.({ status: 'ready', info });
    return info;
  }

  /** A JSON file of the model's source (`config.json`...), or undefined when it has none. */
  private async sourceJson(source: ResolvedSource, file: string): Promise<Record<string, unknown> | undefined> {
    const { env: settings, modelId, revision } = source;
    const root = settings.allowLocalModels
      ? `${settings.localModelPath ?? ''}${modelId}/`
      : `${settings.remoteHost ?? ''}${(settings.remotePathTemplate ?? '{model}/').replace('{model}', modelId).replace('{revision}', revision ?? 'main')}`;
    try {
      return JSON.parse(await this.platform.readText(`${root}${file}`)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /**
   * Prefills the family's fixed instruction (everything before the user's text) once: every
   * call starts with the same ids, so their KV cache is computed here and copied per call.
   */
  private async cacheInstruction(): Promise<void> {
    const loaded = this.requireLoaded();
    // One per moderation mode: Llama Guard's header names the role it judges.
    const prefixes = [{ prompt: 'x' }, { prompt: 'x', response: 'y' }].map((input) => {
      const probe = modelInput(loaded.format, input, loaded.session.tokenizer, loaded.render);
      return probe.ids.slice(0, probe.userRanges[0]?.[0] ?? 0);
    });
    await loaded.session.cachePrefixes(prefixes);
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
