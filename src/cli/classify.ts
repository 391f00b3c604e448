/**
 * `lingoguard classify`: judge one text from the command line with the same runtime and
 * verdicts as the library.
 */
import { parseArgs } from 'node:util';
import { createGuard } from '../node.js';
import type { Verdict } from '../types.js';

/** Where a command writes. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const CLASSIFY_USAGE = `usage: lingoguard classify --model <preset|path> [--response TEXT] [--json] [--stream] [--max-new-tokens N] TEXT`;

/** Runs `classify` with `args` (after the subcommand); resolves to the exit code. */
export async function classifyCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      response: { type: 'string' },
      json: { type: 'boolean', default: false },
      stream: { type: 'boolean', default: false },
      'max-new-tokens': { type: 'string' },
    },
  });
  const text = positionals.join(' ');
  if (text === '') {
    output.err(`${CLASSIFY_USAGE}\n`);
    return 2;
  }
  const guard = await createGuard({ ...(values.model === undefined ? {} : { model: values.model }), warmUp: false });
  try {
    const input = values.response === undefined ? text : { prompt: text, response: values.response };
    const maxNewTokens = values['max-new-tokens'] === undefined ? undefined : Number(values['max-new-tokens']);
    const options = maxNewTokens === undefined ? {} : { maxNewTokens };
    let verdict: Verdict | undefined;
    if (values.stream) {
      // With --json, stdout carries only the JSON verdict: the trace goes to stderr.
      const trace = values.json ? output.err : output.out;
      for await (const event of guard.stream(input, options)) {
        if (event.type === 'reasoning') trace(event.text);
        if (event.type === 'done') verdict = event.verdict;
      }
      trace('\n');
    } else {
      verdict = await guard.classify(input, options);
    }
    if (!verdict) throw new Error('The stream ended without a verdict.');
    output.out(values.json ? `${JSON.stringify(summary(verdict, guard.info.device, guard.info.dtype))}\n` : human(verdict));
    return verdict.label === 'unknown' ? 3 : 0;
  } finally {
    await guard.dispose();
  }
}

function summary(verdict: Verdict, device: string, dtype: string) {
  return { ...verdict, device, dtype };
}

function human(verdict: Verdict): string {
  const categories = verdict.categories.map((c) => `${c.id} (${c.name})`).join(', ') || 'none';
  return [
    `label:      ${verdict.label}${verdict.problem ? ` (${verdict.problem})` : ''}`,
    `categories: ${categories}`,
    `language:   ${verdict.language.code} (${verdict.language.script}, ${verdict.language.confidence.toFixed(2)})`,
    ...(verdict.score === undefined ? [] : [`score:      ${verdict.score.toFixed(3)}`]),
    `model:      ${verdict.model}`,
    `reasoning:  ${verdict.reasoning}`,
    '',
  ].join('\n');
}
