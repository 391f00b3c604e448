/**
 * Writes the fixture models to `models/fixtures/<id>/` and their manifests to
 * `models/manifests/<id>.json`, skipping fixtures whose stamp (a hash of the builder's
 * sources, the format sources it reads, and the fixture's spec) is unchanged.
 *
 * Usage: `npx tsx models/build/main.ts [--bench] [--force] [--only <id>]`
 * - `--bench` also builds the benchmark fixture (tens of MB), which is otherwise skipped.
 * - `--force` rebuilds even when the stamp matches.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, type FixtureSpec } from './fixtures.js';
import { manifestOf } from './manifest.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STAMP = '.stamp';
/** Sources whose change makes every fixture stale. */
const SOURCE_DIRS = ['models/build', 'src/common/formats'];
const SOURCE_FILES = ['src/types.ts', 'src/common/categories.ts', 'package-lock.json'];

function sourceHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...SOURCE_DIRS.flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(dir, f)),
    ),
    ...SOURCE_FILES.filter((f) => existsSync(join(ROOT, f))),
  ].sort();
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(ROOT, file))).update('\0');
  return hash.digest('hex');
}

function stampOf(spec: FixtureSpec, sources: string): string {
  return createHash('sha256').update(sources).update(JSON.stringify(spec)).digest('hex');
}

function isFresh(dir: string, stamp: string): boolean {
  const file = join(dir, STAMP);
  return existsSync(file) && readFileSync(file, 'utf8').trim() === stamp && existsSync(join(dir, 'onnx', 'model_q4.onnx'));
}

async function main(argv: readonly string[]): Promise<void> {
  const bench = argv.includes('--bench');
  const force = argv.includes('--force');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const sources = sourceHash();
  for (const spec of FIXTURES) {
    if (only !== undefined && spec.id !== only) continue;
    if (spec.onDemand === true && !bench && only !== spec.id) continue;
    const dir = join(ROOT, 'models', 'fixtures', spec.id);
    const stamp = stampOf(spec, sources);
    if (!force && isFresh(dir, stamp)) {
      console.log(`${spec.id}: up to date`);
      continue;
    }
    const started = performance.now();
    // Loaded only when something is stale: it pulls in transformers.js (~1 s).
    const { buildFixture } = await import('./build.js');
    const built = buildFixture(spec);
    rmSync(dir, { recursive: true, force: true });
    for (const [path, bytes] of built.files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    const manifest = manifestOf(spec, built.files, relative(ROOT, dir));
    writeFileSync(join(ROOT, 'models', 'manifests', `${spec.id}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(dir, STAMP), `${stamp}\n`);
    const bytes = [...built.files.values()].reduce((sum, b) => sum + b.length, 0);
    const ms = Math.round(performance.now() - started);
    console.log(`${spec.id}: built in ${ms} ms, ${(bytes / 1e6).toFixed(2)} MB, vocab ${built.tokenizer.vocabSize}, hidden ${built.weights.shape.hidden}`);
  }
}

/** Builds the twins (test models laid out like real exports, see `twins/`), each when its stamp is stale. */
async function buildTwins(argv: readonly string[], sources: string): Promise<void> {
  const force = argv.includes('--force');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const { TWINS } = await import('./twins/index.js');
  const twinSources = createHash('sha256').update(sources);
  const twinDir = join(ROOT, 'models', 'build', 'twins');
  for (const file of readdirSync(twinDir).filter((f) => f.endsWith('.ts')).sort()) twinSources.update(file).update(readFileSync(join(twinDir, file)));
  const hash = twinSources.digest('hex');
  for (const twin of TWINS) {
    if (only !== undefined && twin.id !== only) continue;
    const dir = join(ROOT, 'models', 'fixtures', twin.id);
    const stamp = createHash('sha256').update(hash).update(twin.id).digest('hex');
    if (!force && isFresh(dir, stamp)) {
      console.log(`${twin.id}: up to date`);
      continue;
    }
    const started = performance.now();
    const files = twin.build();
    rmSync(dir, { recursive: true, force: true });
    for (const [path, bytes] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    writeFileSync(join(ROOT, 'models', 'manifests', `${twin.id}.json`), `${JSON.stringify(twin.manifest(files, relative(ROOT, dir)), null, 2)}\n`);
    writeFileSync(join(dir, STAMP), `${stamp}\n`);
    const bytes = [...files.values()].reduce((sum, b) => sum + b.length, 0);
    console.log(`${twin.id}: built in ${Math.round(performance.now() - started)} ms, ${(bytes / 1e6).toFixed(2)} MB`);
  }
}

await main(process.argv.slice(2));
await buildTwins(process.argv.slice(2), sourceHash());
