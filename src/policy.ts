/**
 * The fail policy: what a verdict means for the caller's block/allow decision. A guard that
 * passes what it could not judge fails open, so every undecided outcome blocks by default.
 */
import { UnknownVerdictError } from './errors.js';
import type { Label, Verdict } from './types.js';

/** How a guard turns labels into `blocked`, and whether `unknown` is an error. */
export interface FailPolicy {
  /**
   * `unknown` (no well-formed answer): `block` sets `blocked: true`; `allow` sets
   * `blocked: false` (fail-open: only for callers that handle `unknown` themselves); `throw`
   * rejects the call with `UnknownVerdictError`, which carries the verdict.
   */
  onUnknown: 'block' | 'allow' | 'throw';
  /** `controversial` (a third answer some families give): block or let through. */
  onControversial: 'block' | 'allow';
}

/** Fail-closed: what cannot be judged, or is judged borderline, is blocked. */
export const DEFAULT_POLICY: FailPolicy = { onUnknown: 'block', onControversial: 'block' };

/** Whether `label` blocks under `policy` (`unknown` with `throw` never gets this far). */
function blocks(label: Label, policy: FailPolicy): boolean {
  switch (label) {
    case 'harmful':
      return true;
    case 'unharmful':
      return false;
    case 'controversial':
      return policy.onControversial === 'block';
    case 'unknown':
      return policy.onUnknown !== 'allow';
  }
}

/**
 * The verdict with `blocked` set by `policy`; with `onUnknown: 'throw'`, an `unknown` verdict
 * throws `UnknownVerdictError` instead.
 */
export function applyPolicy(verdict: Verdict, policy: FailPolicy): Verdict {
  if (verdict.label === 'unknown' && policy.onUnknown === 'throw') {
    throw new UnknownVerdictError(
      `The model gave no well-formed answer${verdict.problem ? ` (${verdict.problem})` : ''}.`,
      { verdict: { ...verdict, blocked: true }, details: { model: verdict.model } },
    );
  }
  return { ...verdict, blocked: blocks(verdict.label, policy) };
}
