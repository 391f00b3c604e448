/**
 * The twins' designed answers, read from their builders (Node only: the builders read the
 * real tokenizer files from disk). The browser suite gets them through the `twinDesign`
 * command, which runs this on the test server's side.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GUARDREASONER_TWIN_ANSWERS, GUARDREASONER_TWIN_RESPONSE_ANSWERS } from '../../models/build/twins/guardreasoner.js';
import { LLAMA_GUARD_3_TWIN_ANSWERS, VIOLENT_TRIGGERS } from '../../models/build/twins/llama-guard-3.js';
import { QWEN3_TWIN_ANSWERS } from '../../models/build/twins/qwen3.js';
import { QWEN3GUARD_TWIN_ANSWERS, QWEN3GUARD_TWIN_REFUSAL } from '../../models/build/twins/qwen3guard.js';
import { TWIN_IDS, type TwinDesign } from './feature-table.js';

/** Every twin's answers, by twin id. */
export const TWIN_DESIGN: TwinDesign = {
  'twin-qwen3': { prompt: QWEN3_TWIN_ANSWERS },
  'twin-llama-guard-3': { prompt: LLAMA_GUARD_3_TWIN_ANSWERS, violentWords: VIOLENT_TRIGGERS.map((t) => t.text) },
  'twin-qwen3guard': { prompt: QWEN3GUARD_TWIN_ANSWERS, refusal: QWEN3GUARD_TWIN_REFUSAL },
  'twin-guardreasoner': { prompt: GUARDREASONER_TWIN_ANSWERS, response: GUARDREASONER_TWIN_RESPONSE_ANSWERS },
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds the twins whose files are missing or older than their design (~0.5 s each when none
 * is; ~20 s a twin when one is). Asynchronous, so a test server that runs it stays responsive.
 */
export async function ensureTwins(): Promise<void> {
  for (const id of TWIN_IDS) {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'models/build/main.ts', '--only', id], { cwd: ROOT });
  }
}
