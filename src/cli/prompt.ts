/**
 * `lingoguard prompt`: shows the exact model input for a text (its prompt text and token ids,
 * with the user's text marked), to see what a guard model is really given and that user text
 * stays data.
 */
import { InvalidInputError } from '../errors.js';
import { getFormat, modelInput } from '../common/formats/index.js';
import { chatTemplateRenderer, type TemplateChoice } from '../common/formats/render.js';
import { FAMILIES, type Family, type ModerationInput } from '../types.js';
import { COMMON_EXIT_CODES, HELP_OPTION, helpText, parseCommand, UsageError, type CommandSpec, type Output } from './args.js';
import type { ModelLoader } from './load-model.js';

/** The options, usage and help of `prompt`. */
export const PROMPT_SPEC = {
  name: 'prompt',
  usage: ['--model <preset|folder> [options] TEXT...'],
  description:
    'Shows the exact model input for TEXT: the prompt text and its token ids, with the user text\n' +
    'marked, to see what the guard model is really given (user text stays data). Runs no model.',
  options: {
    model: { type: 'string', short: 'm', value: 'preset|folder', help: 'Preset id or model folder whose tokenizer encodes (required).' },
    family: { type: 'string', value: FAMILIES.join('|'), help: "The prompt format; default: the family the model's manifest names." },
    template: { type: 'string', value: 'own|fallback', help: "Chat-template families: the tokenizer's own template (default) or the published fallback." },
    response: { type: 'string', value: 'TEXT', help: 'Build the response-moderation prompt for this AI response to TEXT.' },
    json: { type: 'boolean', help: 'Print {text, ids, userStart, userEnd, userRanges?} as one JSON object.' },
    help: HELP_OPTION,
  },
  exitCodes: COMMON_EXIT_CODES,
} as const satisfies CommandSpec;

/** The parsed arguments of `prompt`. */
export interface PromptOptions {
  /** Preset id or local model folder. */
  model: string;
  /** Overrides the family the model's manifest names. */
  family?: Family;
  /** `fallback` renders the family's published template instead of the tokenizer's own. */
  template?: TemplateChoice;
  input: ModerationInput;
  json: boolean;
}

/**
 * What `prompt --json` prints. `userStart`/`userEnd` delimit the prompt's user range
 * (`ids.slice(userStart, userEnd)`); with a response, `userRanges` lists every user range.
 */
export interface PromptJson {
  text: string;
  ids: number[];
  userStart: number;
  userEnd: number;
  userRanges?: Array<[number, number]>;
}

/**
 * Reads `prompt`'s command line (after the subcommand).
 * @throws UsageError for unknown options, bad values, or no model or text.
 */
export function parsePromptArgs(args: string[]): PromptOptions {
  const { values, positionals } = parseCommand(PROMPT_SPEC, args);
  const text = positionals.join(' ');
  const { model, family, template, response } = values as Record<string, string | undefined>;
  if (model === undefined) throw new UsageError('prompt', '--model is required');
  if (text === '') throw new UsageError('prompt', 'no TEXT to build the prompt for');
  if (family !== undefined && !(FAMILIES as readonly string[]).includes(family)) {
    throw new UsageError('prompt', `--family is one of ${FAMILIES.join(', ')}, not "${family}"`);
  }
  if (template !== undefined && template !== 'own' && template !== 'fallback') {
    throw new UsageError('prompt', `--template is own or fallback, not "${template}"`);
  }
  return {
    model,
    ...(family === undefined ? {} : { family: family as Family }),
    ...(template === undefined ? {} : { template }),
    input: response === undefined ? { prompt: text } : { prompt: text, response },
    json: values.json === true,
  };
}

/** Runs `prompt` with `args`; resolves to the exit code. */
export async function promptCommand(args: string[], output: Output, load: ModelLoader): Promise<number> {
  if (parseCommand(PROMPT_SPEC, args).values.help === true) {
    output.out(helpText(PROMPT_SPEC));
    return 0;
  }
  const options = parsePromptArgs(args);
  const { ensureTestModel } = await import('../test-models.js');
  await ensureTestModel(options.model, { notify: output.err });
  output.out(await runPrompt(options, load));
  return 0;
}

function marked(ids: readonly number[], ranges: ReadonlyArray<[number, number]>): string {
  const starts = new Set(ranges.map(([start]) => start));
  const ends = new Set(ranges.map(([, end]) => end));
  const parts: string[] = [];
  for (let i = 0; i <= ids.length; i++) {
    if (ends.has(i) && i > 0) parts.push('⟧');
    if (starts.has(i)) parts.push('⟦');
    if (i < ids.length) parts.push(String(ids[i]));
  }
  return parts.join(' ').replace(/⟦ /g, '⟦').replace(/ ⟧/g, '⟧');
}

/**
 * The output of `prompt` for `options`, loading the model with `load`. Pure apart from `load`.
 * @throws ModelLoadError when the family is unknown or the template unusable.
 */
export async function runPrompt(options: PromptOptions, load: ModelLoader): Promise<string> {
  const loaded = await load(options.model);
  const family = options.family ?? loaded.family;
  if (family === undefined) throw new InvalidInputError(`The family of ${options.model} is unknown: pass --family.`);
  const format = getFormat(family);
  const render = format.usesChatTemplate ? chatTemplateRenderer(loaded.tokenizer, format, options.template) : undefined;
  const { text, ids, userRanges } = modelInput(format, options.input, loaded.tokenizer, render);
  const [userStart, userEnd] = userRanges[0] ?? [0, 0];
  if (options.json) {
    const json: PromptJson = { text, ids, userStart, userEnd, ...(userRanges.length > 1 ? { userRanges } : {}) };
    return `${JSON.stringify(json)}\n`;
  }
  const users = userRanges.map(([start, end]) => `[${start}, ${end})`).join(', ');
  return [
    `${family} prompt: ${ids.length} tokens; user text in ${users}, marked ⟦ ⟧ below.`,
    '--- text ---',
    text,
    '--- ids ---',
    marked(ids, userRanges),
    '',
  ].join('\n');
}
