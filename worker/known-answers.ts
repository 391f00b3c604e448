/**
 * The known-answer check at load: the manifest's `knownAnswers` (inputs whose verdict is
 * beyond doubt) are judged once each in fast mode, one forward pass apiece, right after the
 * model loads. A backend that computes wrong numbers (reported for fp16/q4 kernels on WebGPU)
 * gets some of them wrong; the runtime then loads the next dtype or device, and says why in
 * `guard.info.fallback`. Hashes prove the files are right; this proves the arithmetic is.
 */
import { BackendUnavailableError } from '../src/errors.js';
import type { ModelManifest } from '../src/common/manifest.js';
import { chooseBackend, type BackendChoice, type GpuSupport } from './backend.js';
import type { Dtype, ModerationInput, Verdict } from '../src/types.js';

/** A backend that failed the check, and how. */
export interface FailedBackend {
  device: BackendChoice['device'];
  dtype: BackendChoice['dtype'];
  reason: string;
}

/**
 * Judges every known answer with `judge` (fast mode); undefined when all come out as
 * expected, else what went wrong, in words (indices and labels only: safe for `info`).
 */
export async function knownAnswerProblem(
  manifest: ModelManifest,
  judge: (input: ModerationInput) => Promise<Verdict>,
): Promise<string | undefined> {
  const wrong: string[] = [];
  for (const [index, known] of manifest.knownAnswers.entries()) {
    const verdict = await judge(known.response === undefined ? { prompt: known.prompt } : { prompt: known.prompt, response: known.response });
    if (verdict.label !== known.label) wrong.push(`#${index + 1} gave ${verdict.label}, not ${known.label}`);
  }
  if (wrong.length === 0) return undefined;
  return `${wrong.length} of ${manifest.knownAnswers.length} known answers wrong (${wrong.join(', ')})`;
}

/**
 * The backend to try after those that `failed`: another dtype the model ships on the same
 * device, then (from WebGPU) the same on wasm. Throws `BackendUnavailableError` naming every
 * failure when none is left.
 */
export function nextBackend(
  manifest: ModelManifest,
  failed: readonly FailedBackend[],
  context: { gpu: GpuSupport; isNode: boolean },
): BackendChoice {
  const tried = new Set(failed.map((entry) => `${entry.device}/${entry.dtype}`));
  const devices = [...new Set(failed.map((entry) => entry.device).concat(failed.some((entry) => entry.device === 'webgpu') ? ['wasm'] : []))];
  for (const device of devices) {
    // On the CPU (wasm, Node) f16 dtypes run, slowly: tried last there, as backend.ts does.
    const f16Last: Dtype[] = device === 'webgpu' ? [] : manifest.dtypes.filter((dtype) => dtype === 'fp16' || dtype === 'q4f16');
    for (const dtype of [...manifest.dtypes.filter((dtype) => !f16Last.includes(dtype)), ...f16Last]) {
      let choice: BackendChoice;
      try {
        choice = chooseBackend({ requested: device === 'cpu' ? 'auto' : device, dtype, available: manifest.dtypes, ...context });
      } catch {
        continue;
      }
      if (!tried.has(`${choice.device}/${choice.dtype}`) && choice.dtype === dtype) return { device: choice.device, dtype };
    }
  }
  throw new BackendUnavailableError(
    `${manifest.id} failed its known-answer check on every backend tried: the backend computes wrong numbers here. ${failed.map((entry) => `${entry.device}/${entry.dtype}: ${entry.reason}`).join('; ')}.`,
    { details: { model: manifest.id, knownAnswers: failed.map((entry) => ({ device: entry.device, dtype: entry.dtype, reason: entry.reason })) } },
  );
}

/** The words for `info.fallback` after known-answer failures. */
export function knownAnswerFallback(failed: readonly FailedBackend[]): string {
  return failed.map((entry) => `${entry.device}/${entry.dtype} failed its known-answer check: ${entry.reason}`).join('; ');
}
