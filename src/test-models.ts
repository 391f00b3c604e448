/**
 * Builds a `fixture-*` test model on its first use in Node. Test models are generated files
 * (`models/fixtures/` is neither committed nor published): in a clone `npm run models` makes
 * them, and `npm start` / `npm test` run it. A `createGuard` or CLI call that names one before
 * that builds it here, saying so in one line on stderr, instead of failing on a missing
 * `config.json`. An installed package has no builder: the error then says what to run.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelLoadError } from './errors.js';

/** The builder, relative to the package root; it ships only with the source repository. */
const BUILDER = join('models', 'build', 'main.ts');

/** The package's root folder (the nearest parent with a package.json), where `models/` lives. */
export function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) return process.cwd();
    folder = parent;
  }
  return folder;
}

/** A test model whose files are not all on disk. */
export interface MissingTestModel {
  id: string;
  /** Its folder. */
  folder: string;
  /** The first file its manifest lists that is missing, relative to `folder`. */
  file: string;
}

/**
 * The test preset `model` names, when a file of it is missing under `root`; `undefined` for
 * every other model (real presets, folders, manifest objects) and for a complete test model.
 */
export async function missingTestModel(model: unknown, root: string = packageRoot()): Promise<MissingTestModel | undefined> {
  if (typeof model !== 'string') return undefined;
  const { findPreset } = await import('./common/presets.js');
  const preset = findPreset(model);
  if (preset === undefined || !preset.testModel || preset.source.kind !== 'local') return undefined;
  const folder = join(root, preset.source.path);
  const file = preset.files.map((f) => f.path).find((path) => !existsSync(join(folder, path)));
  return file === undefined ? undefined : { id: preset.id, folder, file };
}

function canResolveTsx(root: string): boolean {
  try {
    createRequire(join(root, 'package.json')).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

function runBuilder(root: string, id: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // `--import tsx` resolves from the working directory: the package root, like `npm run models`.
    const child = spawn(process.execPath, ['--import', 'tsx', BUILDER, '--only', id], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Options of {@link ensureTestModel}. */
export interface EnsureTestModelOptions {
  /** The package root, where the builder writes `models/fixtures/`. @default the root of this package */
  root?: string;
  /** Gets the one line announcing a build. @default a line on stderr */
  notify?: (line: string) => void;
}

/**
 * Makes sure the test preset `model` names is on disk, building it when a file is missing.
 * Does nothing for any other model.
 * @throws ModelLoadError when it is missing and cannot be built here (an installed package,
 * a clone without its dev dependencies) or the build fails; the message says what to run.
 */
export async function ensureTestModel(model: unknown, options: EnsureTestModelOptions = {}): Promise<void> {
  const root = options.root ?? packageRoot();
  const missing = await missingTestModel(model, root);
  if (missing === undefined) return;
  const { id } = missing;
  const details = { model: id, folder: missing.folder, file: missing.file };
  if (!existsSync(join(root, BUILDER))) {
    throw new ModelLoadError(
      `The test model ${id} is not built (${missing.file} is missing in ${missing.folder}), and this installed ` +
        `package cannot build it: test models are generated in a clone of the lingoguard repository, by ` +
        '`npm install && npm run models` there. Use a real model preset instead, such as llama-guard-3-1b.',
      { details },
    );
  }
  if (!canResolveTsx(root)) {
    throw new ModelLoadError(
      `The test model ${id} is not built, and its builder needs the dev dependency tsx: ` +
        `run \`npm install\` and then \`npm run models\` in ${root}.`,
      { details },
    );
  }
  const notify = options.notify ?? ((line: string) => process.stderr.write(line));
  notify(`lingoguard: building the test model ${id} (first use, a few seconds)…\n`);
  const { code, stderr } = await runBuilder(root, id);
  const still = await missingTestModel(id, root);
  if (code !== 0 || still !== undefined) {
    const why = stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`;
    throw new ModelLoadError(
      `Building the test model ${id} failed (${why}); run \`npm run models -- --only ${id}\` in ${root} to see why.`,
      { details: { ...details, exitCode: code } },
    );
  }
}
