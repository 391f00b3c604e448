/** Builds the fixture models when they are missing or stale (a no-op taking ~0.5 s otherwise). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The argument lists this test process has already built (`''`: everything). */
const built = new Set<string>();

/**
 * Runs `models/build/main.ts` (extra arguments such as `--bench` are passed on), once per test
 * file for each argument list: nothing rebuilds a model while its tests run, so a second check
 * in the same file would only spend the builder's start-up again.
 */
export function ensureFixtures(...args: string[]): void {
  const key = args.join(' ');
  // A whole build covers any `--only ID` one.
  if (built.has(key) || (built.has('') && args[0] === '--only')) return;
  execFileSync(process.execPath, ['--import', 'tsx', 'models/build/main.ts', ...args], { cwd: ROOT, stdio: 'pipe' });
  built.add(key);
}
