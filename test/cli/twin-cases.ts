/**
 * The twins as the CLI, eval, AI SDK and demo suites see them: what each answers in prompt
 * mode, by design (models/build/twins/), and where they answer response moderation. Pure data.
 */
import { GUARDREASONER_TWIN_ANSWERS } from '../../models/build/twins/guardreasoner.js';
import { LLAMA_GUARD_3_TWIN_ANSWERS } from '../../models/build/twins/llama-guard-3.js';
import { QWEN3_TWIN_ANSWERS } from '../../models/build/twins/qwen3.js';
import { QWEN3GUARD_TWIN_ANSWERS } from '../../models/build/twins/qwen3guard.js';

/** One twin. */
export interface TwinCase {
  id: 'twin-qwen3' | 'twin-llama-guard-3' | 'twin-qwen3guard' | 'twin-guardreasoner';
  /** The designed answer of each branch; the runtime may stop once the verdict is read, so `raw` is a prefix of it. */
  answers: { harmful: string; unharmful: string };
  /** Category ids a harmful verdict names. */
  categories: string[];
  /** Whether the twin writes a reasoning trace before its verdict. */
  reasoning: boolean;
  /**
   * The languages of the twin sample (test/fixtures/eval/twins/) whose responses the twin
   * answers; in the others it loops until the loop guard ends it with `unknown`. All six but
   * for twin-guardreasoner, whose design knows the response's end only when it is `.`, `?`, `!`
   * or nothing before the template's `\n\n` (not `。`, `？` or `।`); widen when it does.
   */
  responseLangs: readonly string[];
}

const ALL_LANGS = ['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'];

/** Every twin, smallest first. */
export const TWINS: readonly TwinCase[] = [
  { id: 'twin-qwen3', answers: QWEN3_TWIN_ANSWERS, categories: ['S2'], reasoning: true, responseLangs: ALL_LANGS },
  { id: 'twin-qwen3guard', answers: QWEN3GUARD_TWIN_ANSWERS, categories: ['Non-violent Illegal Acts'], reasoning: false, responseLangs: ALL_LANGS },
  { id: 'twin-llama-guard-3', answers: LLAMA_GUARD_3_TWIN_ANSWERS, categories: ['S2'], reasoning: false, responseLangs: ALL_LANGS },
  { id: 'twin-guardreasoner', answers: GUARDREASONER_TWIN_ANSWERS, categories: [], reasoning: true, responseLangs: ['en', 'fr'] },
];
