/**
 * The evaluation page's harness, without the page: reads benchmark files (the slice this site
 * serves, or files the user picked), runs the shared evaluation loop on a guard, and renders the
 * same report, table and chart as `lingoguard eval`. Kept apart from the DOM so a browser test
 * runs exactly what the page runs.
 */
import type { Guard } from 'lingoguard';
import { itemKey, parseBenchmarkFile, selectItems, type BenchmarkFile, type Selection } from '../src/eval/data.js';
import { renderCsv, renderMarkdown, renderSvg } from '../src/eval/render.js';
import { buildReport, type EvalReport } from '../src/eval/report.js';
import { runEval, type EvalProgress, type Prediction, type RunResult } from '../src/eval/run.js';

/**
 * The committed evaluation slice (OpenAI Moderation, MIT), by file name. Each file is its own
 * chunk of this site, fetched only when used: nothing is read from anywhere else.
 */
const SLICE_LOADERS = import.meta.glob<string>('../test/fixtures/eval/*.jsonl', { query: '?raw', import: 'default' });

/** The file names of the bundled slice. */
export const BUNDLED_SLICE: readonly string[] = Object.keys(SLICE_LOADERS).map((path) => path.split('/').pop() ?? path);

/** A file's name and text, however it was obtained. */
export interface NamedText {
  name: string;
  text: string;
}

/** The bundled slice's files. */
export async function bundledSlice(): Promise<NamedText[]> {
  return Promise.all(Object.entries(SLICE_LOADERS).map(async ([path, load]) => ({ name: path.split('/').pop() ?? path, text: await load() })));
}

/** Files the user picked (`<input type=file>`): read locally, never uploaded. */
export async function pickedFiles(files: Iterable<File>): Promise<NamedText[]> {
  return Promise.all([...files].map(async (file) => ({ name: file.name, text: await file.text() })));
}

/** Parses benchmark files; names that are not `<set>_<lang>.jsonl` are listed in `ignored`. */
export function parseFiles(files: readonly NamedText[]): { files: BenchmarkFile[]; ignored: string[] } {
  const parsed: BenchmarkFile[] = [];
  const ignored: string[] = [];
  for (const { name, text } of files) {
    const file = parseBenchmarkFile(name, text);
    if (file === undefined) ignored.push(name);
    else parsed.push(file);
  }
  return { files: parsed, ignored };
}

/** Options of {@link evaluateInBrowser}. */
export interface BrowserEvalOptions {
  guard: Guard;
  files: readonly BenchmarkFile[];
  selection: Selection;
  /** Predictions of an earlier, stopped run of the same model: their items are skipped. */
  earlier?: readonly Prediction[];
  onProgress?: (progress: EvalProgress) => void;
  signal?: AbortSignal;
  maxNewTokens?: number;
}

/** What a browser run produced: the predictions and every rendering of the report. */
export interface BrowserEvalResult {
  result: RunResult;
  /** Earlier and new predictions of the selected items. */
  predictions: Prediction[];
  report: EvalReport;
  markdown: string;
  csv: string;
  svg: string;
}

/**
 * Runs the selection on `guard` and renders the report. Reasoning lengths are whitespace words:
 * the tokenizer lives in the guard's worker, which reports only the whole answer's token count.
 */
export async function evaluateInBrowser(options: BrowserEvalOptions): Promise<BrowserEvalResult> {
  const { guard } = options;
  const model = guard.info.model;
  const items = selectItems(options.files, options.selection);
  const selected = new Set(items.map(itemKey));
  const predictions = (options.earlier ?? []).filter((p) => p.model === model && selected.has(itemKey(p)));
  const result = await runEval({
    guard,
    model,
    items,
    done: new Set(predictions.map(itemKey)),
    // Reasoned, as the paper measured and as `lingoguard eval` does by default.
    mode: 'full',
    onPrediction: (prediction) => {
      predictions.push(prediction);
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.maxNewTokens === undefined ? {} : { maxNewTokens: options.maxNewTokens }),
  });
  const report = buildReport({ model, items, predictions });
  return { result, predictions, report, markdown: renderMarkdown(report), csv: renderCsv(report), svg: renderSvg(report) };
}
