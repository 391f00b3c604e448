/**
 * The `lingoguard` command line: one subcommand per file, dispatched by name. Subcommands are
 * imported when run, so `prompt` never loads the model runtime that `classify` needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGuardError } from '../errors.js';
import { isUsageError, type Output } from './args.js';

/** A subcommand: runs with its arguments and resolves to the exit code. */
type Command = (args: string[], output: Output) => Promise<number>;

const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  classify: {
    summary: 'judge a text, stdin, or a JSONL batch; print the verdict',
    load: async () => (await import('./classify.js')).classifyCommand,
  },
  prompt: {
    summary: 'show the exact model input (text and token ids) for a text',
    load: async () => {
      const [{ promptCommand }, { loadModel }] = await Promise.all([import('./prompt.js'), import('./load-model.js')]);
      return (args, output) => promptCommand(args, output, loadModel);
    },
  },
  eval: {
    summary: "measure a model on benchmark JSONL files (the paper's Table 1)",
    load: async () => (await import('./eval.js')).evalCommand,
  },
};

const HELP = [
  'usage: lingoguard <command> [options]',
  '',
  'Client-side moderation with a reasoning guard model, from the command line (Node, CPU).',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(10)}${summary}`),
  '',
  'Options:',
  '  -h, --help     show this help; `lingoguard <command> --help` shows a command\'s options',
  '      --version  print the version',
  '',
  'Exit codes: 0 done, 1 failed, 2 bad usage; classify also 3 (unknown verdict) and 4 (--fail-on-block).',
  '',
].join('\n');

async function version(): Promise<string> {
  const { packageRoot } = await import('../test-models.js');
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Runs the command line `argv` (without `node` and the script). Never throws: every failure is
 * one line on `output.err` and an exit code.
 * @returns the exit code: 0 done, 1 failed, 2 bad usage; from `classify` also 3 (a verdict is
 * unknown) and 4 (`--fail-on-block` and a verdict blocks); 130 from an interrupted `eval`.
 */
export async function main(argv: string[], output: Output): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h') {
    output.out(HELP);
    return 0;
  }
  if (name === '--version') {
    output.out(`${await version()}\n`);
    return 0;
  }
  // `lingoguard help classify` is `lingoguard classify --help`.
  if (name === 'help') return args[0] === undefined ? main(['--help'], output) : main([args[0], '--help'], output);
  if (name === undefined) {
    output.err(HELP);
    return 2;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    output.err(`lingoguard: unknown command "${name}" (see lingoguard --help)\n`);
    return 2;
  }
  try {
    return await (await command.load())(args, output);
  } catch (error) {
    if (isUsageError(error)) {
      output.err(`lingoguard ${error.command}: ${error.message} (see lingoguard ${error.command} --help)\n`);
      return 2;
    }
    // A typed error by its code; anything else by its message, never a stack trace.
    const message = isGuardError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    output.err(`lingoguard: ${message}\n`);
    return 1;
  }
}
