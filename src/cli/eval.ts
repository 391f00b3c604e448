/**
 * `lingoguard eval`: the paper's Table 1 for a model, on the benchmark JSONL files. Judges each
 * item, in this process or spread over inference servers (`--endpoint`, `--concurrency`),
 * appending its prediction at once, so an interrupted run resumes where it stopped; then
 * prints the throughput and the table, and writes predictions, Markdown, CSV, an SVG chart
 * and the CAO pairs.
 * Everything but file and terminal I/O lives in `src/eval/`, shared with the browser page.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { InvalidInputError } from '../errors.js';
import { caoPairs, inputsByKey } from '../eval/consistency.js';
import { itemKey, parseBenchmarkFile, selectItems, sortLangs, type BenchmarkFile, type RowProblem } from '../eval/data.js';
import type { ControversialAs } from '../eval/metrics.js';
import { renderCsv, renderMarkdown, renderSvg } from '../eval/render.js';
import { buildReport } from '../eval/report.js';
import { CLASSIFY_MODES, parsePredictions, runEval, type Prediction, type RunOptions, type Throughput } from '../eval/run.js';
import { getFormat } from '../common/formats/index.js';
import { chatTemplateRenderer } from '../common/formats/render.js';
import type { Guard, GuardOptions } from '../guard.js';
import { createGuard } from '../node.js';
import { ensureTestModel } from '../test-models.js';
import { ENDPOINT_ENGINES, FAMILIES, type ClassifyMode, type EndpointEngine, type Family, type ModerationInput } from '../types.js';
import { COMMON_EXIT_CODES, HELP_OPTION, helpText, intOption, parseCommand, UsageError, type CommandSpec, type Output } from './args.js';
import { loadModel } from './load-model.js';

/** The options, usage and help of `eval`. */
export const EVAL_SPEC = {
  name: 'eval',
  usage: [
    '--model <preset|folder> --data <dir|file.jsonl> [--data ...] [options]',
    '--model <preset> --data <dir> --endpoint <URL>... --concurrency <N> [...]',
  ],
  description:
    "Measures a model on benchmark files (<set>_<lang>.jsonl: {id, text, label}) and prints the paper's\n" +
    'Table 1 for it beside the published rows, with trace quality, cross-lingual agreement and CAO\n' +
    'preference pairs. Each prediction is appended as it is made: rerun the same command to resume.',
  options: {
    model: { type: 'string', short: 'm', value: 'preset|folder', help: 'Preset id or model folder to measure (required).' },
    data: { type: 'string', multiple: true, value: 'dir|file.jsonl', help: 'Benchmark folder or file (required; also accepted as positionals).' },
    sets: { type: 'string', value: 'a,b', help: 'Only these sets (comma-separated); default: every set found.' },
    langs: { type: 'string', value: 'en,fr,...', help: 'Only these languages (comma-separated); default: every language found.' },
    limit: { type: 'string', value: 'N', help: 'At most N items per set and language.' },
    out: { type: 'string', value: 'DIR', help: 'Output folder. Default: lingoguard-eval/<model>, or <model>-fast, <model>-auto.' },
    mode: {
      type: 'string',
      value: 'full|fast|auto',
      default: 'full',
      help: 'How each item is judged: full reasons then judges (the paper\'s protocol; default), fast takes one pass, auto one pass and reasons only when its score is unsure.',
    },
    'max-new-tokens': { type: 'string', value: 'N', help: "Cap on generated tokens per item. Default: the model's." },
    endpoint: {
      type: 'string',
      multiple: true,
      value: 'URL',
      help: "An OpenAI-compatible server running the model (vLLM, llama.cpp's llama-server, TGI), e.g. http://gpu-box:8000/v1: one guard per --endpoint, the items spread over them. Default: the model runs in this process.",
    },
    engine: {
      type: 'string',
      value: 'vllm|llama.cpp|tgi',
      help: 'What the --endpoint servers run: vllm (default), llama.cpp (llama-server) or tgi; it decides how prompts and scores travel.',
    },
    'served-model': {
      type: 'string',
      value: 'NAME',
      help: "The name the --endpoint servers serve the model under (vLLM's --served-model-name). Default: the first of the manifest's names that /v1/models lists.",
    },
    concurrency: {
      type: 'string',
      value: 'N',
      help: 'Most calls in flight at once, over all endpoints together; a free endpoint takes the next item. Default: one per endpoint (1 in process, where more only queue).',
    },
    controversial: { type: 'string', value: 'wrong|harmful|unharmful', default: 'wrong', help: 'How a controversial verdict is scored (default wrong).' },
    help: HELP_OPTION,
  },
  notes: [
    'A row with a "response" too ({id, text, response, label}) is judged as an AI response to its text',
    "(response moderation): its label is the response's.",
    'The scores table gives tokens per verdict beside F1 (decoded, and fed through the model), and',
    'in auto mode the share of verdicts that reasoned. Each --mode has its own default --out.',
    'Writes predictions.jsonl, table.md, table.csv, chart.svg and cao-pairs.jsonl to --out.',
    'unknown verdicts count as wrong answers.',
    'With --endpoint, the API key (if the servers want one) is read from LINGOGUARD_API_KEY. A call',
    "that fails (a server down, a timeout) is that item's unknown verdict, with the error as its problem.",
    'With more than one call in flight, predictions.jsonl lists items in the order they finished',
    '(each once; readers key them by set, language and id); the tables and CAO pairs are in item order.',
    'An interrupted run keeps every finished item; the calls in flight are judged again on the rerun.',
    'Prints the throughput on stderr: items/s and generated tokens/s (from the verdicts\' timings).',
  ].join('\n'),
  exitCodes: [...COMMON_EXIT_CODES, [130, 'interrupted (Ctrl-C): what was judged is kept; rerun to resume']],
} as const satisfies CommandSpec;

/** The parsed arguments of `eval`. */
export interface EvalOptions {
  model: string;
  /** Folders and `<set>_<lang>.jsonl` files. */
  data: string[];
  sets?: string[];
  langs?: string[];
  limit?: number;
  out: string;
  maxNewTokens?: number;
  controversialAs: ControversialAs;
  /** How each item is judged. */
  mode: ClassifyMode;
  /** Servers to judge on, as http(s) URLs; empty: the model runs in this process. */
  endpoints: string[];
  /** Most calls in flight at once, over all guards; absent: one per guard. */
  concurrency?: number;
  /** The name the servers serve the model under; absent: found in `/v1/models`. */
  servedModel?: string;
  /** What the servers run; absent: vLLM. */
  engine?: EndpointEngine;
}

/** What the command can be given besides its arguments (for tests and embedding). */
export interface EvalDeps {
  /** Stops the run after the current item, like Ctrl-C. */
  signal?: AbortSignal;
  /** Where the progress bar draws (it draws only on a terminal). @default process.stderr */
  progressStream?: NodeJS.WritableStream;
  /** Sees the progress the bar shows. */
  onProgress?: RunOptions['onProgress'];
  /** Opens each guard (one per `--endpoint`, or the one in-process guard). @default createGuard of `lingoguard/node` */
  createGuard?: (options: GuardOptions) => Promise<Guard>;
}

/** The environment variable `--endpoint` servers' API key is read from (never a flag: flags show in `ps`). */
export const API_KEY_ENV = 'LINGOGUARD_API_KEY';

/** An `--endpoint` value: an http(s) URL without credentials in it (they would be printed). */
function endpointOption(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError('eval', `--endpoint takes an http:// or https:// URL such as http://gpu-box:8000/v1, not "${value}"`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('eval', `--endpoint URLs carry no credentials: put the API key in ${API_KEY_ENV}`);
  }
  return value;
}

const list = (value: string | undefined) => value?.split(',').map((s) => s.trim()).filter((s) => s !== '');

/**
 * Reads `eval`'s command line (after the subcommand); `undefined` when `--help` was asked.
 * @throws UsageError for unknown options, bad values, or no model or data.
 */
export function parseEvalArgs(args: string[]): EvalOptions | undefined {
  const { values, positionals } = parseCommand(EVAL_SPEC, args);
  if (values.help === true) return undefined;
  const str = (key: string) => values[key] as string | undefined;
  const model = str('model');
  const data = [...((values.data as string[] | undefined) ?? []), ...positionals];
  if (model === undefined) throw new UsageError('eval', '--model is required');
  if (data.length === 0) throw new UsageError('eval', '--data is required');
  const controversial = str('controversial');
  if (controversial !== 'wrong' && controversial !== 'harmful' && controversial !== 'unharmful') {
    throw new UsageError('eval', `--controversial is wrong, harmful or unharmful, not "${controversial}"`);
  }
  const mode = CLASSIFY_MODES.find((m) => m === str('mode'));
  if (mode === undefined) throw new UsageError('eval', `--mode is full, fast or auto, not "${str('mode')}"`);
  const sets = list(str('sets'));
  const langs = list(str('langs'));
  const limit = intOption('eval', 'limit', str('limit'));
  const maxNewTokens = intOption('eval', 'max-new-tokens', str('max-new-tokens'));
  const endpoints = ((values.endpoint as string[] | undefined) ?? []).map(endpointOption);
  const concurrency = intOption('eval', 'concurrency', str('concurrency'));
  const servedModel = str('served-model');
  if (servedModel === '') throw new UsageError('eval', '--served-model needs a name');
  if (servedModel !== undefined && endpoints.length === 0) throw new UsageError('eval', '--served-model names a model on the --endpoint servers: give one');
  const engineName = str('engine');
  const engine = ENDPOINT_ENGINES.find((e) => e === engineName);
  if (engineName !== undefined && engine === undefined) throw new UsageError('eval', `--engine is ${ENDPOINT_ENGINES.join(', ')}, not "${engineName}"`);
  if (engine !== undefined && endpoints.length === 0) throw new UsageError('eval', '--engine says what the --endpoint servers run: give one');
  return {
    model,
    data,
    ...(sets === undefined ? {} : { sets }),
    ...(langs === undefined ? {} : { langs }),
    ...(limit === undefined ? {} : { limit }),
    // Each mode its own default folder: a resumed run never mixes two modes' predictions.
    out: str('out') ?? join('lingoguard-eval', basename(model).replace(/[^\w.-]+/g, '_') + (mode === 'full' ? '' : `-${mode}`)),
    ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
    controversialAs: controversial,
    mode,
    endpoints,
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(servedModel === undefined ? {} : { servedModel }),
    ...(engine === undefined ? {} : { engine }),
  };
}

/** Reads every benchmark file under the `--data` paths. */
export function readBenchmarks(paths: readonly string[]): BenchmarkFile[] {
  const files: BenchmarkFile[] = [];
  for (const path of paths) {
    if (!existsSync(path)) throw new InvalidInputError(`--data ${path}: no such file or folder.`);
    const isDir = statSync(path).isDirectory();
    const names = isDir ? readdirSync(path).filter((n) => n.endsWith('.jsonl')).sort() : [path];
    for (const name of names) {
      const file = join(isDir ? path : '', name);
      const parsed = parseBenchmarkFile(basename(file), readFileSync(file, 'utf8'));
      if (parsed !== undefined) files.push(parsed);
      else if (!isDir) throw new InvalidInputError(`${file}: benchmark files are named <set>_<lang>.jsonl.`);
    }
  }
  if (files.length === 0) throw new InvalidInputError(`No <set>_<lang>.jsonl files in ${paths.join(', ')}.`);
  return files;
}

function checkChoice(kind: string, asked: readonly string[] | undefined, found: readonly string[]): void {
  const missing = asked?.filter((name) => !found.includes(name)) ?? [];
  if (missing.length > 0) {
    throw new InvalidInputError(`No data for ${kind} ${missing.join(', ')}; found: ${found.join(', ')}.`);
  }
}

function reportProblems(problems: readonly RowProblem[], output: Output): void {
  const shown = 20;
  for (const p of problems.slice(0, shown)) output.err(`skipped ${p.source}:${p.line}: ${p.message}\n`);
  if (problems.length > shown) output.err(`skipped ${problems.length - shown} more bad rows\n`);
}

/** Reads the predictions of earlier runs, refusing another model's or another mode's. */
function readDone(path: string, model: string, mode: ClassifyMode, output: Output): Prediction[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const { predictions, problems } = parsePredictions(text, path);
  reportProblems(problems, output);
  const other = predictions.find((p) => p.model !== model);
  if (other !== undefined) {
    throw new InvalidInputError(`${path} holds predictions of ${other.model}, not ${model}: choose another --out.`);
  }
  // One table of two modes would be neither's (predictions of older runs name no mode).
  const otherMode = predictions.find((p) => p.classifyMode !== undefined && p.classifyMode !== mode);
  if (otherMode !== undefined) {
    throw new InvalidInputError(`${path} holds predictions judged in ${otherMode.classifyMode} mode, not ${mode}: choose another --out.`);
  }
  // An interrupted write may have left a last line without its newline: end it before appending.
  if (text !== '' && !text.endsWith('\n')) appendFileSync(path, '\n');
  return predictions;
}

/** A progress bar with rate and ETA, drawn on a terminal only. */
function progressBar(stream: NodeJS.WritableStream): { update: NonNullable<RunOptions['onProgress']>; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'eval [{bar}] {percentage}% | {value}/{total} | {rate} items/s | {tokenRate} tokens/s | ETA {eta_formatted} | {item}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (progress) => {
      const payload = {
        rate: progress.rate.toFixed(2),
        tokenRate: progress.tokenRate.toFixed(0),
        item: progress.last ? `${progress.last.dataset}/${progress.last.lang}/${progress.last.id}` : '',
      };
      if (!started) {
        bar.start(progress.total, progress.done, payload);
        started = true;
      } else {
        bar.update(progress.done, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** The exact prompt text for CAO pairs, or `undefined` when the format needs a tokenizer the CLI could not load. */
function promptBuilder(family: Family, tokenizer: Awaited<ReturnType<typeof loadModel>>['tokenizer'] | undefined) {
  const format = getFormat(family);
  if (format.usesChatTemplate && tokenizer === undefined) return undefined;
  const render = format.usesChatTemplate && tokenizer ? chatTemplateRenderer(tokenizer, format) : undefined;
  return (input: ModerationInput) => format.buildPrompt(input, render).map((s) => s.text).join('');
}

/** Runs `eval` with `args`; resolves to the exit code (130 when interrupted). */
export async function evalCommand(args: string[], output: Output, deps: EvalDeps = {}): Promise<number> {
  const options = parseEvalArgs(args);
  if (options === undefined) {
    output.out(helpText(EVAL_SPEC));
    return 0;
  }
  const files = readBenchmarks(options.data);
  reportProblems(files.flatMap((f) => f.problems), output);
  checkChoice('set', options.sets, [...new Set(files.map((f) => f.dataset))]);
  checkChoice('language', options.langs, sortLangs(files.map((f) => f.lang)));
  const items = selectItems(files, options);
  if (items.length === 0) throw new InvalidInputError('The selection holds no items.');

  await ensureTestModel(options.model, { notify: output.err });
  // The tokenizer builds the exact prompts of CAO pairs (reasoning tokens come from the runtime).
  const tokenizer = await loadModel(options.model).then(
    (loaded) => loaded.tokenizer,
    (error: unknown) => {
      output.err(`lingoguard: no tokenizer for ${options.model} (${String(error)}); CAO prompts of chat-template families are skipped.\n`);
      return undefined;
    },
  );
  const guards = await openGuards(options, deps.createGuard ?? createGuard);
  const guard = guards[0]!;
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  try {
    const model = guard.info.model;
    // One model's predictions per folder: a pool of two models would mix them in one table.
    const other = guards.find((g) => g.info.model !== model);
    if (other !== undefined) throw new InvalidInputError(`The endpoints serve different models: ${model} and ${other.info.model}.`);
    mkdirSync(options.out, { recursive: true });
    const predictionsPath = join(options.out, 'predictions.jsonl');
    const earlier = readDone(predictionsPath, model, options.mode, output);
    const bar = progressBar(deps.progressStream ?? process.stderr);
    const fresh: Prediction[] = [];
    const result = await runEval({
      guard: guards,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      model,
      items,
      done: new Set(earlier.map(itemKey)),
      onPrediction: (prediction) => {
        appendFileSync(predictionsPath, `${JSON.stringify(prediction)}\n`);
        fresh.push(prediction);
      },
      onProgress: (progress) => {
        bar.update(progress);
        deps.onProgress?.(progress);
      },
      signal,
      mode: options.mode,
      ...(options.maxNewTokens === undefined ? {} : { maxNewTokens: options.maxNewTokens }),
    });
    bar.stop();
    output.err(
      `${result.interrupted ? 'interrupted: ' : ''}judged ${result.judged}, skipped ${result.skipped} done earlier` +
        `${result.interrupted ? `; rerun the same command to resume` : ''}\n`,
    );
    output.err(throughputLine(result.throughput, options.endpoints));
    // Predictions of other slices stay in the file, out of this report.
    // In item order: calls finish out of order when several are in flight, the report must not.
    const order = new Map(items.map((item, i) => [itemKey(item), i]));
    const predictions = [...earlier, ...fresh]
      .filter((p) => order.has(itemKey(p)))
      .sort((a, b) => order.get(itemKey(a))! - order.get(itemKey(b))!);
    const report = buildReport({ model, items, predictions, controversialAs: options.controversialAs });
    const markdown = renderMarkdown(report);
    writeFileSync(join(options.out, 'table.md'), markdown);
    writeFileSync(join(options.out, 'table.csv'), renderCsv(report));
    writeFileSync(join(options.out, 'chart.svg'), renderSvg(report));
    const family = (FAMILIES as readonly string[]).includes(guard.info.family) ? (guard.info.family as Family) : undefined;
    const build = family === undefined ? undefined : promptBuilder(family, tokenizer);
    let caoNote = 'no CAO pairs: the prompt format needs the model tokenizer';
    if (build !== undefined) {
      const inputOf = inputsByKey(items);
      const pairs = caoPairs(predictions, (key) => build(inputOf(key)));
      writeFileSync(join(options.out, 'cao-pairs.jsonl'), pairs.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
      caoNote = `cao-pairs.jsonl (${pairs.length} pairs)`;
    }
    output.out(markdown);
    output.out(`\nwrote ${options.out}/: predictions.jsonl, table.md, table.csv, chart.svg, ${caoNote}\n`);
    return result.interrupted ? 130 : 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await Promise.all(guards.map((g) => g.dispose()));
  }
}

/**
 * One guard per `--endpoint`, or the in-process guard without any. If one fails to open, the
 * others are closed and its error is thrown: a run never starts on part of the pool unasked.
 */
async function openGuards(options: EvalOptions, open: (options: GuardOptions) => Promise<Guard>): Promise<Guard[]> {
  const apiKey = process.env[API_KEY_ENV];
  const asked: GuardOptions[] =
    options.endpoints.length === 0
      ? [{ model: options.model, warmUp: false }]
      : options.endpoints.map((url) => ({
          model: options.model,
          warmUp: false,
          endpoint: {
            url,
            ...(apiKey ? { apiKey } : {}),
            ...(options.servedModel === undefined ? {} : { model: options.servedModel }),
            ...(options.engine === undefined ? {} : { engine: options.engine }),
          },
        }));
  const opened = await Promise.allSettled(asked.map((o) => open(o)));
  const guards = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(guards.map((g) => g.dispose()));
    throw failed.reason;
  }
  return guards;
}

/** The run's throughput, for stderr: items/s and generated tokens/s, and each endpoint's share. */
function throughputLine(t: Throughput, endpoints: readonly string[]): string {
  const shares = endpoints.length > 1 ? `; items per endpoint: ${endpoints.map((url, i) => `${url} ${t.perGuard[i] ?? 0}`).join(', ')}` : '';
  return (
    `throughput: ${t.itemsPerSecond.toFixed(2)} items/s, ${t.tokensPerSecond.toFixed(1)} generated tokens/s ` +
    `(${t.generatedTokens} tokens in ${(t.elapsedMs / 1000).toFixed(1)} s${shares})\n`
  );
}

