/**
 * `lingoguard prompt`: shows the exact model input for a text (its prompt text and token ids,
 * with the user's text marked), to see what a guard model is really given and that user text
 * stays data.
 */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../errors.js';
import { getFormat, modelInput } from '../formats/index.js';
import { chatTemplateRenderer, type TemplateChoice } from '../formats/render.js';
import { FAMILIES, type Family, type ModerationInput } from '../types.js';
import type { ModelLoader } from './load-model.js';

/** Usage line of the command. */
export const PROMPT_USAGE =
  'usage: lingoguard prompt --model <preset|folder> [--family F] [--template own|fallback] [--response TEXT] [--json] TEXT';

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

/** Reads `prompt`'s command line (after the subcommand). */
export function parsePromptArgs(args: string[]): PromptOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      family: { type: 'string' },
      template: { type: 'string' },
      response: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const text = positionals.join(' ');
  const { model, family, template } = values;
  if (model === undefined || text === '') throw new InvalidInputError(PROMPT_USAGE);
  if (family !== undefined && !(FAMILIES as readonly string[]).includes(family)) {
    throw new InvalidInputError(`Unknown family "${family}"; one of: ${FAMILIES.join(', ')}.`);
  }
  if (template !== undefined && template !== 'own' && template !== 'fallback') {
    throw new InvalidInputError(`--template is "own" or "fallback", not "${template}".`);
  }
  return {
    model,
    ...(family === undefined ? {} : { family: family as Family }),
    ...(template === undefined ? {} : { template }),
    input: values.response === undefined ? { prompt: text } : { prompt: text, response: values.response },
    json: values.json,
  };
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
