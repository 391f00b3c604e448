/**
 * The guard runtime: loads one model and classifies inputs with it, one generation at a time
 * and in order. It is what the worker exposes, and what Node runs in-process: one class, so a
 * verdict is the same wherever it is computed.
 */
import { AbortedError, InvalidInputError, ModelLoadError } from '../src/errors.js';
import { getFormat, modelInput } from '../src/formats/index.js';
import { moderationMode, type GuardFormat, type RenderChatTemplate } from '../src/formats/format.js';
import { chatTemplateRenderer } from '../src/formats/render.js';
import { normalizeInput, worstVerdict } from '../src/input.js';
import { detectLanguage } from '../src/language.js';
import type { ModelManifest } from '../src/manifest.js';
import type { ModerationInput, Verdict } from '../src/types.js';
import { chooseBackend, probeGpu } from './backend.js';
import { resolveManifest, resolveSource } from './model-source.js';
import type {
  ClassifyRequest,
  GuardInfo,
  LoadRequest,
  ProgressEvent,
  StreamEvent,
  WorkerApi,
} from './protocol.js';
import { ModelSession, type Generation } from './session.js';

/** Tokens a reasoning answer may take when the caller sets no limit (the paper's GRPO cap). */
const DEFAULT_MAX_NEW_TOKENS = { reasoning: 2048, plain: 32 } as const;

/** Share of a window repeated in the next one, so no word is lost at a window's edge. */
const WINDOW_OVERLAP = 0.125;

interface Loaded {
  manifest: ModelManifest;
  format: GuardFormat;
  session: ModelSession;
  /** The model's own chat template, for families that use one. */
  render?: RenderChatTemplate;
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
    const gpu = this.platform.isNode ? { adapter: false, f16: false } : await probeGpu();
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
    const session = await ModelSession.load(source, choice, onProgress);
    const format = getFormat(manifest.family);
    const info: GuardInfo = {
      model: manifest.id,
      family: manifest.family,
      testModel: manifest.testModel,
      reasons: manifest.reasons,
      device: choice.device,
      dtype: choice.dtype,
      ...(choice.fallback === undefined ? {} : { fallback: choice.fallback }),
      contextLength: manifest.contextLength,
      loadMs: 0,
    };
    const render = format.usesChatTemplate ? chatTemplateRenderer(session.tokenizer, format) : undefined;
    this.loaded = { manifest, format, session, info, ...(render ? { render } : {}) };
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
      const { input } = normalizeInput(request.input);
      const windows = this.windows(loaded, input);
      const maxNewTokens = request.maxNewTokens ??
        (loaded.manifest.reasons ? DEFAULT_MAX_NEW_TOKENS.reasoning : DEFAULT_MAX_NEW_TOKENS.plain);
      const mode = moderationMode(input);
      let worst: { generation: Generation; parsed: ReturnType<GuardFormat['parse']> } | undefined;
      let raw = '';
      let verdictSent = false;
      for (const ids of windows) {
        const generation = await loaded.session.generate(ids, {
          maxNewTokens,
          isComplete: (text) => loaded.format.isComplete(text, mode),
          shouldStop: () => this.aborted.has(request.id),
          onText: (text) => onEvent?.({ type: 'reasoning', text }),
        });
        if (generation.stopReason === 'aborted') throw new AbortedError();
        const parsed = loaded.format.parse(generation.text, mode);
        raw += (raw ? '\n\n' : '') + generation.text;
        if (!worst || worstVerdict([worst.parsed.label, parsed.label]) !== worst.parsed.label) worst = { generation, parsed };
        if (windows.length === 1 && onEvent) {
          onEvent({ type: 'verdict', verdict: this.verdict(loaded, input, worst, raw, started, windows) });
          verdictSent = true;
        }
      }
      if (!worst) throw new InvalidInputError('Nothing to classify.');
      const verdict = this.verdict(loaded, input, worst, raw, started, windows);
      if (!verdictSent) onEvent?.({ type: 'verdict', verdict });
      onEvent?.({ type: 'done', verdict });
      return verdict;
    } finally {
      this.aborted.delete(request.id);
    }
  }

  /**
   * The model input as one or more id windows. Text longer than the context is never cut
   * silently: the last user segment is split into overlapping windows, each judged on its
   * own with the whole template, and the worst verdict wins.
   */
  private windows(loaded: Loaded, input: ModerationInput): number[][] {
    const encoded = modelInput(loaded.format, input, loaded.session.tokenizer, loaded.render);
    const reserve = loaded.manifest.reasons ? DEFAULT_MAX_NEW_TOKENS.reasoning : DEFAULT_MAX_NEW_TOKENS.plain;
    const budget = Math.max(16, loaded.manifest.contextLength - reserve);
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
    judged: { generation: Generation; parsed: ReturnType<GuardFormat['parse']> },
    raw: string,
    started: number,
    windows: number[][],
  ): Verdict {
    const { generation, parsed } = judged;
    const promptTokens = windows.reduce((sum, ids) => sum + ids.length, 0);
    return {
      label: parsed.label,
      categories: parsed.categories,
      reasoning: parsed.reasoning,
      language: detectLanguage(input.response ?? input.prompt),
      model: loaded.manifest.id,
      timings: {
        totalMs: Math.round(performance.now() - started),
        firstTokenMs: Math.round(generation.firstTokenMs),
        ...(generation.completeMs === undefined ? {} : { verdictMs: Math.round(generation.completeMs) }),
        promptTokens,
        generatedTokens: generation.tokens,
      },
      raw,
      ...(parsed.problem === undefined ? {} : { problem: parsed.problem }),
      ...(parsed.request === undefined ? {} : { request: parsed.request }),
      ...(parsed.response === undefined ? {} : { response: parsed.response }),
    };
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
