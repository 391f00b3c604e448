/**
 * The streaming panel: a scripted AI answer arrives a word at a time on a timer, as from a
 * chat model, and goes into `guard.watch()`. The page shows a part of the answer only once a
 * check passed it, with a mark at each checked boundary (its verdict and score); at the first
 * harmful check the answer is cut there, the stream stopped, and nothing after it shown.
 */
import type { Guard, ResponseWatch, WatchCheck } from 'lingoguard';
import { answerChunks, SCRIPTED_ANSWER } from './answer.js';

/** Pause between two pieces of the scripted answer: about a fast chat model's pace. */
const CHUNK_MS = 90;

export interface WatchElements {
  start: HTMLButtonElement;
  /** Where the released answer and the check marks go. */
  answer: HTMLElement;
  status: HTMLElement;
}

/** Wires the panel; `guard()` is the guard loaded now (undefined while loading). */
export function watchPanel(elements: WatchElements, guard: () => Guard | undefined): { stop(): void } {
  let current: { watch: ResponseWatch; timer: ReturnType<typeof setInterval> } | undefined;
  const stop = () => {
    if (!current) return;
    clearInterval(current.timer);
    current.watch.abort();
    current = undefined;
  };
  elements.start.addEventListener('click', () => {
    stop();
    const loaded = guard();
    if (!loaded) return;
    current = run(elements, loaded);
  });
  return { stop };
}

function run(elements: WatchElements, guard: Guard) {
  const { answer, status } = elements;
  answer.replaceChildren();
  answer.dataset.state = 'streaming';
  const pending = document.createElement('span');
  pending.className = 'pending';
  answer.append(pending);
  const watch = guard.watch({ prompt: SCRIPTED_ANSWER.prompt });
  const chunks = answerChunks();
  let shownTo = 0;
  let computed = 0;
  let reused = 0;

  const showPending = () => {
    const waiting = watch.text.length - shownTo;
    pending.textContent = waiting > 0 && !watch.blocked ? ` ⋯ ${waiting} characters awaiting their check` : '';
  };
  const timer = setInterval(() => {
    const next = chunks.shift();
    if (next === undefined || watch.blocked) {
      clearInterval(timer);
      if (!watch.blocked) void watch.end().catch(() => undefined); // the final check, on the whole answer
      return;
    }
    watch.push(next);
    showPending();
  }, CHUNK_MS);

  status.textContent = 'Streaming: each part is shown once its check passed.';
  void (async () => {
    try {
      for await (const event of watch) {
        if (event.type === 'done') break;
        const { check } = event;
        computed += check.verdict.timings.forwardTokens ?? 0;
        reused += check.verdict.timings.cachedTokens ?? 0;
        if (check.verdict.blocked) {
          clearInterval(timer); // the AI's stream is stopped: nothing after this is wanted
          answer.insertBefore(mark(check), pending);
          const notice = document.createElement('p');
          notice.className = 'blocked-notice';
          notice.dataset.testid = 'answer-blocked';
          notice.textContent = `Blocked at check ${check.index + 1}: the answer turned harmful after what is shown. The rest was not shown, and the stream was stopped.`;
          answer.append(notice);
        } else {
          const part = document.createElement('span');
          part.className = 'passed';
          part.textContent = watch.text.slice(shownTo, check.end);
          shownTo = check.end;
          answer.insertBefore(part, pending);
          answer.insertBefore(mark(check), pending);
        }
        showPending();
      }
      answer.dataset.state = watch.blocked ? 'blocked' : 'passed';
      const checks = watch.checks.length;
      status.textContent = `${watch.blocked ? 'Blocked' : 'Passed'} after ${checks} check${checks === 1 ? '' : 's'}: ${computed} tokens computed, ${reused} reused from the checks before.`;
    } catch (error) {
      answer.dataset.state = 'stopped';
      pending.textContent = '';
      status.textContent = `Stopped: ${error instanceof Error ? error.message : String(error)}`;
    }
  })();
  return { watch, timer };
}

/** The mark at a checked boundary: ✓ or ✗ with the score; the details in its title. */
function mark(check: WatchCheck): HTMLElement {
  const { verdict } = check;
  const element = document.createElement('mark');
  element.className = `check ${verdict.label}`;
  element.dataset.verdict = verdict.label;
  element.dataset.end = String(check.end);
  const score = verdict.score === undefined ? '' : ` ${verdict.score.toFixed(2)}`;
  element.textContent = `${verdict.blocked ? '✗' : '✓'}${score}`;
  element.title = `Check ${check.index + 1}${check.final ? ' (final)' : ''}: ${verdict.label}${score ? `, score${score}` : ''}; ` +
    `${verdict.timings.forwardTokens ?? '?'} tokens computed, ${verdict.timings.cachedTokens ?? '?'} reused`;
  return element;
}
