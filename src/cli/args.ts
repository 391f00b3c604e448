/**
 * What every `lingoguard` subcommand shares: its options declared once (for `util.parseArgs`
 * and for `--help`, so the help lists every option there is), usage errors as a typed error
 * that `main` turns into exit code 2, option-value checks, and reading stdin.
 */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../errors.js';

/** Where a command reads and writes. Only `out` and `err` are required. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Text input when a command reads stdin. @default process.stdin */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where progress bars draw; they draw only when it is a terminal. @default process.stderr */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** One option of a command: its `util.parseArgs` config plus its help. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** The value's placeholder in the help, such as `N` or `full|fast`. */
  value?: string;
  help: string;
}

/** A subcommand's options, usage lines and help text. */
export interface CommandSpec {
  name: string;
  /** Usage lines, without the `lingoguard <name>` prefix. */
  usage: readonly string[];
  /** What the command does, in a few lines. */
  description: string;
  options: Readonly<Record<string, OptionSpec>>;
  /** Extra help paragraphs (input formats and the like). */
  notes?: string;
  exitCodes: ReadonlyArray<readonly [number, string]>;
}

/** The `--help` option every command has. */
export const HELP_OPTION = { type: 'boolean', short: 'h', help: 'Show this help and exit.' } as const satisfies OptionSpec;

/** Exit codes every command shares. */
export const COMMON_EXIT_CODES = [
  [0, 'done'],
  [1, 'failed: the model could not load or a call failed (a message on stderr names the error code)'],
  [2, 'bad usage: unknown option, missing or invalid value'],
] as const;

/**
 * A command line that cannot be run as given: an unknown option, a missing or invalid value.
 * `main` prints it on one line with a pointer to `--help` and exits with code 2.
 */
export class UsageError extends InvalidInputError {
  /** The subcommand whose help explains the usage. */
  readonly command: string;

  constructor(command: string, message: string) {
    super(message, { details: { command } });
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Whether `error` is a {@link UsageError} (by name, like every lingoguard error guard). */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof Error && error.name === 'UsageError' && typeof (error as { command?: unknown }).command === 'string';
}

/** Help lines fit a 100-column terminal. */
const HELP_COLUMNS = 100;

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** The `--help` text of `spec`. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` <${option.value ?? 'value'}>` : ''}`;
    return [flag, option.help + (option.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([flag]) => flag.length)) + 2);
  const indent = ' '.repeat(width + 2);
  const lines = rows.map(([flag, help]) => {
    const wrapped = wrap(help, HELP_COLUMNS - indent.length).join(`\n${indent}`);
    return flag.length + 2 > width ? `  ${flag}\n${indent}${wrapped}` : `  ${flag.padEnd(width)}${wrapped}`;
  });
  const codeWidth = Math.max(...spec.exitCodes.map(([code]) => String(code).length));
  const usage = spec.usage.map((line, i) => `${i === 0 ? 'usage: ' : '       '}lingoguard ${spec.name} ${line}`);
  return [
    ...usage,
    '',
    spec.description,
    '',
    'Options:',
    ...lines,
    ...(spec.notes ? ['', spec.notes] : []),
    '',
    'Exit codes:',
    ...spec.exitCodes.map(([code, meaning]) => `  ${String(code).padStart(codeWidth)}  ${meaning}`),
    '',
  ].join('\n');
}

/** Node's messages name the option in quotes: `Unknown option '--foo'. To specify ...`. */
function quoted(message: string): string | undefined {
  return /'([^']+)'/.exec(message)?.[1];
}

/**
 * Parses `args` against `spec` (strict: unknown options and missing values are usage errors).
 * @throws UsageError with a one-line message naming the option.
 */
export function parseCommand(spec: CommandSpec, args: string[]) {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, { type, short, multiple, default: value }]) => [
      name,
      { type, ...(short === undefined ? {} : { short }), ...(multiple ? { multiple } : {}), ...(value === undefined ? {} : { default: value }) },
    ]),
  ) as Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(spec.name, `unknown option ${quoted(message) ?? message}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = /--[\w-]+/.exec(quoted(message) ?? '')?.[0] ?? 'an option';
      if (message.includes('does not take an argument')) throw new UsageError(spec.name, `${option} takes no value`);
      const dash = message.includes('ambiguous') ? `; write ${option}=VALUE for a value that starts with "-"` : '';
      throw new UsageError(spec.name, `${option} needs a value${dash}`);
    }
    throw new UsageError(spec.name, message.split('\n')[0] ?? message);
  }
}

/** A whole number of at least `min`, or `undefined` when the option is absent. */
export function intOption(command: string, name: string, value: unknown, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(command, `--${name} takes a whole number of at least ${min}, not "${text}"`);
  }
  return n;
}

/** One of `allowed`, or `undefined` when the option is absent. */
export function choiceOption<const T extends string>(command: string, name: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new UsageError(command, `--${name} is one of ${allowed.join(', ')}, not "${String(value)}"`);
  }
  return value as T;
}

/** Reads a stream to its end as UTF-8 text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
