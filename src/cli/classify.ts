/**
 * `lingoguard classify`: judge a text (an argument, or stdin) or a JSONL batch from the
 * command line, with the same runtime, options and verdicts as the library.
 */
import { DEFAULT_MODE, DEFAULT_MODEL } from '../common/constants.js';
import type { ClassifyOptions, Guard, GuardOptions } from '../guard.js';
import { createGuard } from '../node.js';
import { ensureTestModel } from '../test-models.js';
import { DEVICE_CHOICES, DTYPES, type ModerationInput, type Verdict } from '../types.js';
import {
  choiceOption,
  COMMON_EXIT_CODES,
  HELP_OPTION,
  helpText,
  intOption,
  parseCommand,
  readAll,
  UsageError,
  type CommandSpec,
  type Output,
} from './args.js';
import { parseBatch, runBatch, verdictJson } from './batch.js';

export type { Output } from './args.js';

/** Exit code when a verdict is `unknown` (the model gave no well-formed answer). */
export const EXIT_UNKNOWN = 3;
/** Exit code, with `--fail-on-block`, when a verdict blocks. */
export const EXIT_BLOCKED = 4;

/** The options, usage and help of `classify`. */
export const CLASSIFY_SPEC = {
  name: 'classify',
  usage: ['[options] TEXT...', '[options] [-]            (the text on stdin)', '--batch [options] [FILE | -]  (JSONL in, JSONL out)'],
  description:
    'Judges a user prompt (or, with --response, an AI response to it) with a guard model and prints\n' +
    'the verdict. Without TEXT, or with "-", the text is read from stdin.',
  options: {
    model: { type: 'string', short: 'm', value: 'preset|folder', help: `Preset id (models/manifests/) or model folder. Default: ${DEFAULT_MODEL}.` },
    response: { type: 'string', value: 'TEXT', help: 'Judge this AI response to TEXT (response moderation).' },
    mode: {
      type: 'string',
      value: 'auto|full|fast',
      help: `auto: one pass, reasoning only when the score is unsure (default: the library's, ${DEFAULT_MODE}). full: reason, then judge. fast: the verdict and score at once, no trace.`,
    },
    'max-reasoning-tokens': { type: 'string', value: 'N', help: 'Cut the reasoning after N tokens and make the model judge (verdict.reasoningCut). Default: none; 256 in auto mode.' },
    'max-new-tokens': { type: 'string', value: 'N', help: "Cap on generated tokens; a verdict the cap cuts is unknown. Default: the model's." },
    dtype: { type: 'string', value: DTYPES.join('|'), help: 'Weights to load; the best the device runs by default (a fallback is reported).' },
    device: { type: 'string', value: DEVICE_CHOICES.join('|'), help: 'Where to run (default auto). Node always runs on the CPU; others are a reported fallback.' },
    json: { type: 'boolean', help: 'Print the verdict as one JSON object (the Verdict, plus device, dtype, fallback).' },
    stream: { type: 'boolean', help: 'Print the reasoning as it is generated (on stderr with --json).' },
    batch: { type: 'boolean', help: 'Read JSONL from FILE or stdin, write one JSON line per input (see below).' },
    'fail-on-block': { type: 'boolean', help: 'Exit with 4 when a verdict blocks (harmful, or unknown/controversial).' },
    help: HELP_OPTION,
  },
  notes: [
    'Batch (--batch): one input per line, either a JSON string (the prompt) or an object',
    '  {"prompt": "...", "response"?: "...", "id"?: string|number}; blank lines are skipped.',
    '  Each input gives one line on stdout, in input order:',
    '  {"line": N, "id"?: ..., "verdict": {...}}  (the verdict as --json prints it), or',
    '  {"line": N, "id"?: ..., "error": {"code": "invalid-input", "message": "..."}} for a bad line or',
    '  a failed call; the batch goes on. The input is read whole first; a progress bar is drawn on',
    '  stderr when it is a terminal.',
  ].join('\n'),
  exitCodes: [
    COMMON_EXIT_CODES[0],
    [1, 'failed: the model could not load or the call failed; --batch: some line got an error line'],
    COMMON_EXIT_CODES[2],
    [EXIT_UNKNOWN, 'a verdict is unknown: the model gave no well-formed answer (never a pass)'],
    [EXIT_BLOCKED, 'with --fail-on-block: a verdict blocks (checked after 1 and 3)'],
  ],
} as const satisfies CommandSpec;

/** The parsed command line of `classify`. */
export interface ClassifyArgs {
  /** The text (single mode), or the batch file (`-` or absent: stdin). */
  positionals: string[];
  batch: boolean;
  json: boolean;
  stream: boolean;
  failOnBlock: boolean;
  response?: string;
  guard: GuardOptions;
  call: ClassifyOptions;
}

/**
 * Reads `classify`'s command line (after the subcommand); `undefined` when `--help` was asked.
 * @throws UsageError for unknown options, bad values and options that do not go together.
 */
export function parseClassifyArgs(args: string[]): ClassifyArgs | undefined {
  const { values, positionals } = parseCommand(CLASSIFY_SPEC, args);
  if (values.help === true) return undefined;
  const name = CLASSIFY_SPEC.name;
  const str = (key: string) => values[key] as string | undefined;
  const mode = choiceOption(name, 'mode', str('mode'), ['auto', 'full', 'fast'] as const);
  const dtype = choiceOption(name, 'dtype', str('dtype'), DTYPES);
  const device = choiceOption(name, 'device', str('device'), DEVICE_CHOICES);
  const maxReasoningTokens = intOption(name, 'max-reasoning-tokens', str('max-reasoning-tokens'));
  const maxNewTokens = intOption(name, 'max-new-tokens', str('max-new-tokens'));
  const batch = values.batch === true;
  if (batch && values.response !== undefined) throw new UsageError(name, '--response does not go with --batch: give "response" in each line');
  if (batch && values.stream === true) throw new UsageError(name, '--stream does not go with --batch');
  if (batch && positionals.length > 1) throw new UsageError(name, `--batch reads one FILE (or stdin), not ${positionals.length}`);
  const model = str('model');
  const response = str('response');
  return {
    positionals,
    batch,
    json: values.json === true,
    stream: values.stream === true,
    failOnBlock: values['fail-on-block'] === true,
    ...(response === undefined ? {} : { response }),
    guard: {
      ...(model === undefined ? {} : { model }),
      ...(dtype === undefined ? {} : { dtype }),
      ...(device === undefined ? {} : { device }),
      warmUp: false,
    },
    call: {
      ...(mode === undefined ? {} : { mode }),
      ...(maxReasoningTokens === undefined ? {} : { maxReasoningTokens }),
      ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
    },
  };
}

/** The exit code for these verdicts (1 for failures is decided by the caller). */
export function verdictExitCode(verdicts: readonly Verdict[], failOnBlock: boolean): number {
  if (verdicts.some((v) => v.label === 'unknown')) return EXIT_UNKNOWN;
  if (failOnBlock && verdicts.some((v) => v.blocked === true)) return EXIT_BLOCKED;
  return 0;
}

/** The text to judge: the arguments, else stdin (a terminal with no `-` is a usage error, not a hang). */
async function singleText(parsed: ClassifyArgs, output: Output): Promise<string> {
  const fromStdin = parsed.positionals.length === 0 || (parsed.positionals.length === 1 && parsed.positionals[0] === '-');
  if (!fromStdin) return parsed.positionals.join(' ');
  const stdin = output.stdin ?? process.stdin;
  if (parsed.positionals.length === 0 && stdin.isTTY === true) {
    throw new UsageError('classify', 'no TEXT: give it as an argument, or pipe it on stdin');
  }
  // `echo text |` ends the text with a newline that is not part of it.
  return (await readAll(stdin)).replace(/\r?\n$/, '');
}

/** Loads the guard, building a missing test model first (with a line on stderr). */
export async function openCliGuard(options: GuardOptions, output: Output): Promise<Guard> {
  await ensureTestModel(options.model ?? DEFAULT_MODEL, { notify: output.err });
  return createGuard(options);
}

/** Runs `classify` with `args` (after the subcommand); resolves to the exit code. */
export async function classifyCommand(args: string[], output: Output): Promise<number> {
  const parsed = parseClassifyArgs(args);
  if (parsed === undefined) {
    output.out(helpText(CLASSIFY_SPEC));
    return 0;
  }
  if (parsed.batch) {
    const path = parsed.positionals[0] ?? '-';
    const stdin = output.stdin ?? process.stdin;
    if (path === '-' && parsed.positionals.length === 0 && stdin.isTTY === true) {
      throw new UsageError('classify', '--batch with no FILE reads stdin, which is a terminal: give a FILE or pipe JSONL in');
    }
    const { readFile } = await import('node:fs/promises');
    const text = path === '-' ? await readAll(stdin) : await readFile(path, 'utf8').catch((cause: unknown) => {
      throw new UsageError('classify', `cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
    });
    const items = parseBatch(text);
    const guard = await openCliGuard(parsed.guard, output);
    try {
      const result = await runBatch(guard, items, parsed.call, output);
      return result.failed > 0 ? 1 : verdictExitCode(result.verdicts, parsed.failOnBlock);
    } finally {
      await guard.dispose();
    }
  }

  const text = await singleText(parsed, output);
  if (text.trim() === '') throw new UsageError('classify', 'the text to judge is empty');
  const input: string | ModerationInput = parsed.response === undefined ? text : { prompt: text, response: parsed.response };
  const guard = await openCliGuard(parsed.guard, output);
  try {
    let verdict: Verdict | undefined;
    if (parsed.stream) {
      // With --json, stdout carries only the JSON verdict: the trace goes to stderr.
      const trace = parsed.json ? output.err : output.out;
      for await (const event of guard.stream(input, parsed.call)) {
        if (event.type === 'reasoning') trace(event.text);
        if (event.type === 'done') verdict = event.verdict;
      }
      trace('\n');
    } else {
      verdict = await guard.classify(input, parsed.call);
    }
    if (!verdict) throw new Error('The stream ended without a verdict.');
    output.out(parsed.json ? `${JSON.stringify(verdictJson(verdict, guard))}\n` : human(verdict, guard));
    return verdictExitCode([verdict], parsed.failOnBlock);
  } finally {
    await guard.dispose();
  }
}

function human(verdict: Verdict, guard: Guard): string {
  const categories = verdict.categories.map((c) => `${c.id} (${c.name})`).join(', ') || 'none';
  const { device, dtype, fallback } = guard.info;
  return [
    `label:      ${verdict.label}${verdict.problem ? ` (${verdict.problem})` : ''}`,
    `blocked:    ${verdict.blocked === true ? 'yes' : 'no'}`,
    `categories: ${categories}`,
    `language:   ${verdict.language.code} (${verdict.language.script}, ${verdict.language.confidence.toFixed(2)})`,
    ...(verdict.score === undefined ? [] : [`score:      ${verdict.score.toFixed(3)}`]),
    `path:       ${verdict.path}`,
    `model:      ${verdict.model} (${device}, ${dtype}${fallback ? `; ${fallback}` : ''})`,
    `reasoning:  ${traceLine(verdict)}`,
    '',
  ].join('\n');
}

/** The trace, or why there is none: a one-pass verdict (the default mode's, for a clear text) has none to show. */
function traceLine(verdict: Verdict): string {
  if (verdict.path === 'fast') return verdict.reasoning || '(none: a one-pass verdict; --mode full gives the trace)';
  return `${verdict.reasoning}${verdict.reasoningCut ? ' [cut]' : ''}`;
}

