/** Builds the fixture models when they are missing or stale (a no-op taking ~0.5 s otherwise). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `models/build/main.ts` (extra arguments such as `--bench` are passed on). */
export function ensureFixtures(...args: string[]): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'models/build/main.ts', ...args], { cwd: ROOT, stdio: 'pipe' });
}
