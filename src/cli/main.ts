/**
 * The `lingoguard` command line: one subcommand per file, dispatched by name. Subcommands are
 * imported when run, so `prompt` never loads the model runtime that `classify` needs.
 */
import { isGuardError } from '../errors.js';
import type { Output } from './classify.js';

/** A subcommand: runs with its arguments and resolves to the exit code. */
type Command = (args: string[], output: Output) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  classify: async () => (await import('./classify.js')).classifyCommand,
  eval: async () => (await import('./eval.js')).evalCommand,
  prompt: async () => {
    const { parsePromptArgs, runPrompt } = await import('./prompt.js');
    const { loadModel } = await import('./load-model.js');
    return async (args, output) => {
      output.out(await runPrompt(parsePromptArgs(args), loadModel));
      return 0;
    };
  },
};

const USAGE = `usage: lingoguard <${Object.keys(COMMANDS).join('|')}> [options]`;

/**
 * Runs the command line `argv` (without `node` and the script).
 * @returns the exit code: 0 done, 1 failed, 2 bad usage (and 3 from `classify`: unknown verdict).
 */
export async function main(argv: string[], output: Output): Promise<number> {
  const [name, ...args] = argv;
  const load = name === undefined ? undefined : COMMANDS[name];
  if (load === undefined) {
    output.err(`${USAGE}\n`);
    return 2;
  }
  try {
    return await (await load())(args, output);
  } catch (error) {
    // Same wording as classify's own errors; not imported from there, which loads the runtime.
    output.err(`lingoguard: ${isGuardError(error) ? `${error.code}: ${error.message}` : String(error)}\n`);
    return 1;
  }
}
