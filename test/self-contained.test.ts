/**
 * A plain clone has nothing beside it: no test, benchmark or library code may read the
 * developers' `../shared` folder (only the developer scripts in `scripts/` take it as a default
 * argument, for the evaluation data they are pointed at).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FOLDERS = ['src', 'worker', 'test', 'bench', 'demo', 'models/build'];

test('nothing outside scripts/ reads ../shared', () => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', ...FOLDERS], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => /\.(ts|tsx|js|mjs|html)$/.test(file));
  expect(files.length).toBeGreaterThan(50);
  const readers = files.filter((file) =>
    // A relative path that climbs out of the repo into a `shared` folder, in a string literal.
    /['"`](?:\.\.\/)+shared\//.test(readFileSync(resolve(ROOT, file), 'utf8')),
  );
  expect(readers).toEqual([]);
});
