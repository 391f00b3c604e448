/**
 * What a user sees first: npm itself. The project's npm config must not make npm warn (a
 * warning on every command hides real errors in logs), and onnxruntime-node's install script,
 * which fetches a CUDA provider from outside the npm registry on Linux x64, must not run.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

test('npm runs in the project without a config warning', () => {
  // `npm_config_*` variables set by an outer `npm run` would be the outer config's, not ours.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const result = spawnSync('npm', ['pkg', 'get', 'name', '--loglevel', 'warn'], { cwd: ROOT, env, encoding: 'utf8' });
  expect(result.stdout.trim()).toBe('"lingoguard"');
  expect(result.stderr).not.toMatch(/npm warn/i);
});

test("onnxruntime-node's install script is denied (no CUDA download, offline installs work)", () => {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
});
