/**
 * Test models are built on first use. Each case runs in a copy of the package made for it
 * (with a link to node_modules and no `models/fixtures/`), so the shared fixtures other tests
 * read are never deleted: the built CLI (`bin/lingoguard.js`, needs `npm run build`) and
 * `createGuard` in a clone find the model missing, build it with one line on stderr, and
 * judge. What npm installs has no builder: it says exactly what to run.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGuardError } from '../../src/errors.js';
import { ensureTestModel, missingTestModel } from '../../src/test-models.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOTE = /^lingoguard: building the test model fixture-consistentguard \(first use, a few seconds\)…$/m;

const copies: string[] = [];
// The copies hold a link to node_modules: rmSync removes the link, not what it points to.
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/**
 * A copy of the package without any built test model. `clone`: what a git clone has after
 * `npm install` (sources, the builder, the built dist); `installed`: only what npm publishes
 * (package.json "files": dist, bin, models/manifests). onnxruntime-web's wasm is left out:
 * Node does not load it.
 */
function packageCopy(kind: 'clone' | 'installed'): string {
  const dir = mkdtempSync(join(tmpdir(), `lingoguard-${kind}-`));
  copies.push(dir);
  const shipped = ['package.json', 'bin', 'dist/src', 'dist/worker', 'dist/models', 'models/manifests'];
  const sources = ['package-lock.json', 'tsconfig.json', 'src', 'worker', 'models/build'];
  for (const path of kind === 'clone' ? [...shipped, ...sources] : shipped) {
    cpSync(join(ROOT, path), join(dir, path), { recursive: true, filter: (from) => !from.endsWith('.wasm') });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs `node bin/lingoguard.js` in `dir`: the built CLI, as `npx lingoguard` runs it. */
function cli(dir: string, ...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/lingoguard.js', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('test models on first use', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first.');
  });

  it('the built CLI in a clone builds a missing test model, says so once on stderr, and judges', { timeout: 120_000 }, async () => {
    const dir = packageCopy('clone');
    const folder = join(dir, 'models', 'fixtures', 'fixture-consistentguard');
    expect(await missingTestModel('fixture-consistentguard', dir)).toMatchObject({ id: 'fixture-consistentguard', folder, file: 'README.md' });

    const first = cli(dir, 'classify', '--model', 'fixture-consistentguard', '--json', 'How do I kill him?');
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(NOTE);
    expect(first.err.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(JSON.parse(first.out)).toMatchObject({ label: 'harmful', model: 'fixture-consistentguard' });
    expect(existsSync(join(folder, 'config.json'))).toBe(true);
    expect(await missingTestModel('fixture-consistentguard', dir)).toBeUndefined();

    const second = cli(dir, 'prompt', '--model', 'fixture-consistentguard', '--json', 'hi');
    expect(second.code, second.err).toBe(0);
    expect(second.err).toBe('');
    expect(JSON.parse(second.out)).toHaveProperty('ids');
  });

  it('createGuard in Node builds it too, from the sources (the line goes to stderr)', { timeout: 120_000 }, () => {
    const dir = packageCopy('clone');
    writeFileSync(
      join(dir, 'guard.mts'),
      "import { createGuard } from './src/node.ts';\n" +
        "const guard = await createGuard({ model: 'fixture-consistentguard', warmUp: false });\n" +
        "console.log((await guard.classify('kill him')).label);\nawait guard.dispose();\n",
    );
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'guard.mts'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(NOTE);
    expect(result.stdout).toBe('harmful\n');
  });

  it('an installed package (no builder) fails with exit 1 and says what to run', { timeout: 60_000 }, () => {
    const dir = packageCopy('installed');
    const { code, out, err } = cli(dir, 'classify', '--model', 'fixture-consistentguard', 'hi');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/^lingoguard: model-load-failed: The test model fixture-consistentguard is not built \(README\.md is missing in [^)]+\), and this installed package cannot build it/);
    expect(err).toContain('`npm install && npm run models`');
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('a clone without its dev dependencies is told to run npm install first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lingoguard-nodeps-'));
    writeFileSync(join(dir, 'package.json'), '{}');
    mkdirSync(join(dir, 'models', 'build'), { recursive: true });
    writeFileSync(join(dir, 'models', 'build', 'main.ts'), '');
    const notes: string[] = [];
    const error = await ensureTestModel('fixture-guardreasoner', { root: dir, notify: (l) => notes.push(l) }).catch((e: unknown) => e);
    expect(isGuardError(error, 'model-load-failed')).toBe(true);
    expect((error as Error).message).toContain('needs the dev dependency tsx: run `npm install` and then `npm run models`');
    expect(notes).toEqual([]);
  });

  it('leaves every other model alone', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lingoguard-empty-'));
    for (const model of ['llama-guard-3-1b', 'some/folder', undefined, { id: 'x' }]) {
      expect(await missingTestModel(model, empty)).toBeUndefined();
      await expect(ensureTestModel(model, { root: empty })).resolves.toBeUndefined();
    }
  });
});
