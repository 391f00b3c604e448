/**
 * The command line's help and usage errors through the real `main()`: every command answers
 * `--help` with every option it has, and a bad command line is one line and exit code 2 (before
 * any model loads), never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { CLASSIFY_SPEC } from '../../src/cli/classify.js';
import { EVAL_SPEC } from '../../src/cli/eval.js';
import { PROMPT_SPEC } from '../../src/cli/prompt.js';
import { run } from './capture.js';

const SPECS = [CLASSIFY_SPEC, PROMPT_SPEC, EVAL_SPEC];

describe('lingoguard --help', () => {
  it('lists every command, with the exit codes', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const { code, out, err } = await run(argv);
      expect(code).toBe(0);
      expect(err).toBe('');
      for (const spec of SPECS) expect(out).toMatch(new RegExp(`^  ${spec.name} +\\S`, 'm'));
      expect(out).toContain('Exit codes: 0 done, 1 failed, 2 bad usage');
    }
  });

  it('no command: the help on stderr and exit 2; an unknown command: one line and exit 2', async () => {
    const none = await run([]);
    expect([none.code, none.out]).toEqual([2, '']);
    expect(none.err).toContain('usage: lingoguard <command>');
    const unknown = await run(['clasify', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe('lingoguard: unknown command "clasify" (see lingoguard --help)\n');
  });

  it('--version prints the package version', async () => {
    const { code, out } = await run(['--version']);
    expect(code).toBe(0);
    expect(out).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  for (const spec of SPECS) {
    it(`${spec.name} --help: usage, every option and the exit codes`, async () => {
      const long = await run([spec.name, '--help']);
      expect(long.code).toBe(0);
      expect(long.out.startsWith(`usage: lingoguard ${spec.name} `)).toBe(true);
      for (const [name, option] of Object.entries(spec.options)) {
        expect(long.out).toContain(`--${name}`);
        expect(long.out).toContain(option.help.split(' ').slice(0, 3).join(' '));
      }
      expect(long.out).toMatch(/Exit codes:\n +0 {2}done\n +1 {2}failed[^\n]*\n +2 {2}bad usage/);
      for (const line of long.out.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
      // -h and `lingoguard help <command>` say the same.
      expect((await run([spec.name, '-h'])).out).toBe(long.out);
      expect((await run(['help', spec.name])).out).toBe(long.out);
    });

    it(`${spec.name}: an unknown option is one line naming it, exit 2`, async () => {
      const { code, out, err } = await run([spec.name, '--model', 'fixture-consistentguard', '--colour', 'x']);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toBe(`lingoguard ${spec.name}: unknown option --colour (see lingoguard ${spec.name} --help)\n`);
    });
  }

  it('classify documents 3 (unknown verdict) and 4 (--fail-on-block) and the batch format', async () => {
    const { out } = await run(['classify', '--help']);
    expect(out).toMatch(/^ {2}3 {2}a verdict is unknown/m);
    expect(out).toMatch(/^ {2}4 {2}with --fail-on-block/m);
    expect(out).toContain('{"prompt": "...", "response"?: "...", "id"?: string|number}');
  });
});

describe('lingoguard usage errors (exit 2, before any model loads)', () => {
  // A model that does not exist: reaching the model would fail with 1, not 2.
  const classify = (...args: string[]) => run(['classify', '--model', 'no-such-model', ...args, 'text']);

  it.each([
    [['--max-new-tokens', '0'], '--max-new-tokens takes a whole number of at least 1, not "0"'],
    [['--max-new-tokens', 'abc'], '--max-new-tokens takes a whole number of at least 1, not "abc"'],
    [['--max-reasoning-tokens', '1.5'], '--max-reasoning-tokens takes a whole number of at least 1, not "1.5"'],
    [['--max-reasoning-tokens=-3'], '--max-reasoning-tokens takes a whole number of at least 1, not "-3"'],
    [['--max-new-tokens', '-3'], '--max-new-tokens needs a value; write --max-new-tokens=VALUE for a value that starts with "-"'],
    [['--mode', 'slow'], '--mode is one of auto, full, fast, not "slow"'],
    [['--dtype', 'int8'], '--dtype is one of fp32, fp16, q8, q4, q4f16, not "int8"'],
    [['--device', 'cuda'], '--device is one of auto, webgpu, wasm, not "cuda"'],
    [['--json=yes'], '--json takes no value'],
    [['--batch', '--response', 'r'], '--response does not go with --batch: give "response" in each line'],
    [['--batch', '--stream'], '--stream does not go with --batch'],
  ])('classify %j', async (args, message) => {
    const { code, out, err } = await classify(...args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(`lingoguard classify: ${message} (see lingoguard classify --help)\n`);
  });

  it('classify: --model without a value, empty text, no text on a terminal', async () => {
    expect((await run(['classify', '--model'])).err).toBe('lingoguard classify: --model needs a value (see lingoguard classify --help)\n');
    const empty = await run(['classify', '--model', 'no-such-model', '  ']);
    expect([empty.code, empty.err]).toEqual([2, 'lingoguard classify: the text to judge is empty (see lingoguard classify --help)\n']);
    const tty = await run(['classify', '--model', 'no-such-model']);
    expect(tty.code).toBe(2);
    expect(tty.err).toContain('no TEXT: give it as an argument, or pipe it on stdin');
    const batch = await run(['classify', '--model', 'no-such-model', '--batch', 'no/such/file.jsonl']);
    expect([batch.code, batch.err]).toEqual([2, 'lingoguard classify: cannot read no/such/file.jsonl (ENOENT) (see lingoguard classify --help)\n']);
  });

  it('prompt and eval: missing required options and bad numbers', async () => {
    expect((await run(['prompt', 'Hi'])).err).toBe('lingoguard prompt: --model is required (see lingoguard prompt --help)\n');
    expect((await run(['prompt', '--model', 'x', '--family', 'gpt'])).code).toBe(2);
    const limit = await run(['eval', '--model', 'x', '--data', 'test/fixtures/eval', '--limit', '0']);
    expect([limit.code, limit.err]).toEqual([2, 'lingoguard eval: --limit takes a whole number of at least 1, not "0" (see lingoguard eval --help)\n']);
    expect((await run(['eval', '--model', 'x'])).err).toBe('lingoguard eval: --data is required (see lingoguard eval --help)\n');
  });

  it('a model that does not exist is a failure (1) with its error code, not a stack trace', async () => {
    const { code, err } = await classify();
    expect(code).toBe(1);
    expect(err).toMatch(/^lingoguard: model-load-failed: [^\n]*no-such-model[^\n]*\n$/);
  });
});
