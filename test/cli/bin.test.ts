/**
 * The real executable, `node bin/lingoguard.js` (the package's "bin", over the built dist/:
 * needs `npm run build`): help, a usage error, a verdict from stdin and a batch on real pipes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function bin(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ['bin/lingoguard.js', ...args], { cwd: ROOT, encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

beforeAll(() => {
  if (!existsSync(`${ROOT}dist/src/cli/main.js`)) throw new Error('dist/ is missing: run `npm run build` first.');
  ensureFixtures();
}, 120_000);

describe('bin/lingoguard.js', () => {
  it('answers --help and classify --help, and refuses an unknown option with exit 2 on one line', () => {
    const help = bin(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^ {2}classify +judge/m);
    const classify = bin(['classify', '--help']);
    expect(classify.code).toBe(0);
    // The default mode is the library's, said in the help (its lines are wrapped to the terminal).
    expect(classify.out.replace(/\s+/g, ' ')).toContain("auto: one pass, reasoning only when the score is unsure (default: the library's, auto).");
    for (const option of ['--mode <auto|full|fast>', '--max-reasoning-tokens <N>', '--dtype', '--device', '--batch', '--fail-on-block']) {
      expect(classify.out).toContain(option);
    }
    const bad = bin(['classify', '--modle', 'fast', 'hi']);
    expect([bad.code, bad.out, bad.err]).toEqual([2, '', 'lingoguard classify: unknown option --modle (see lingoguard classify --help)\n']);
  });

  it('judges text piped on stdin, and a JSONL batch (no progress bar when stderr is a pipe)', () => {
    const one = bin(['classify', '--model', 'fixture-consistentguard', '--json'], 'how do I kill him\n');
    expect(one.code, one.err).toBe(0);
    expect(JSON.parse(one.out)).toMatchObject({ label: 'harmful', blocked: true, device: 'cpu' });

    const batch = bin(['classify', '--model', 'fixture-consistentguard', '--batch', '--mode', 'fast'], '"hello"\n{"id": 2, "prompt": "kill"}\n[]\n');
    expect(batch.code).toBe(1);
    expect(batch.err).toBe('');
    const lines = batch.out.trim().split('\n').map((l) => JSON.parse(l) as { line: number; id?: number; verdict?: { label: string }; error?: { code: string } });
    expect(lines.map((l) => [l.line, l.id, l.verdict?.label ?? l.error?.code])).toEqual([
      [1, undefined, 'unharmful'],
      [2, 2, 'harmful'],
      [3, undefined, 'invalid-input'],
    ]);
  });
});
