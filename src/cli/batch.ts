/**
 * `lingoguard classify --batch`: JSONL in, JSONL out. Each input line is judged in order and
 * gives exactly one output line, a verdict or a typed error, so a bad line never stops the
 * batch and output line k always answers input item k.
 */
import cliProgress from 'cli-progress';
import { ERROR_CODES, isGuardError, type ErrorCode } from '../errors.js';
import type { ClassifyOptions, Guard } from '../guard.js';
import type { ModerationInput, Verdict } from '../types.js';
import type { Output } from './args.js';

/** What `--json` prints: the verdict with where it ran. */
export function verdictJson(verdict: Verdict, guard: Guard): Verdict & { device: string; dtype: string; fallback?: string } {
  const { device, dtype, fallback } = guard.info;
  return { ...verdict, device, dtype, ...(fallback === undefined ? {} : { fallback }) };
}

/** One input line: what to judge, or why it cannot be judged. */
export type BatchItem =
  | { line: number; id?: string | number; input: ModerationInput }
  | { line: number; id?: string | number; error: { code: ErrorCode; message: string } };

/** One output line. */
export type BatchLine =
  | { line: number; id?: string | number; verdict: ReturnType<typeof verdictJson> }
  | { line: number; id?: string | number; error: { code: ErrorCode; message: string } };

const invalid = (line: number, message: string, id?: string | number): BatchItem => ({
  line,
  ...(id === undefined ? {} : { id }),
  error: { code: ERROR_CODES.invalidInput, message },
});

function parseLine(text: string, line: number): BatchItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(line, 'not valid JSON (each line is a JSON string or an object with "prompt")');
  }
  if (typeof value === 'string') return { line, input: { prompt: value } };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid(line, 'expected a JSON string or an object with a string "prompt"');
  }
  const { prompt, response, id } = value as Record<string, unknown>;
  const validId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
  if (id !== undefined && validId === undefined) return invalid(line, '"id" is a string or a number');
  if (typeof prompt !== 'string') return invalid(line, 'expected a string "prompt"', validId);
  if (response !== undefined && typeof response !== 'string') return invalid(line, '"response" is a string', validId);
  return {
    line,
    ...(validId === undefined ? {} : { id: validId }),
    input: response === undefined ? { prompt } : { prompt, response },
  };
}

/** The items of a JSONL text, numbered by their line (1-based); blank lines are no items. */
export function parseBatch(text: string): BatchItem[] {
  const items: BatchItem[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() !== '') items.push(parseLine(line, index + 1));
  });
  return items;
}

/** What a batch did: every verdict, and how many items got an error line. */
export interface BatchResult {
  verdicts: Verdict[];
  failed: number;
}

function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number) {
  // Only a terminal gets a bar: in a log file its redraws would be noise.
  if (stream.isTTY !== true || total === 0) return undefined;
  const bar = new cliProgress.SingleBar(
    { stream, format: 'classify [{bar}] {value}/{total} | ETA {eta_formatted} | blocked {blocked}, errors {errors}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { blocked: 0, errors: 0 });
  return bar;
}

/**
 * Judges `items` one at a time, writing one JSON line per item to `output.out` as soon as it
 * is judged. A call that fails with a typed `GuardError` becomes that item's error line; any
 * other error is a bug and stops the batch.
 */
export async function runBatch(guard: Guard, items: readonly BatchItem[], options: ClassifyOptions, output: Output): Promise<BatchResult> {
  const verdicts: Verdict[] = [];
  let failed = 0;
  const bar = progressBar(output.progress ?? process.stderr, items.length);
  try {
    for (const item of items) {
      const head = { line: item.line, ...(item.id === undefined ? {} : { id: item.id }) };
      let result: BatchLine;
      if ('error' in item) {
        result = { ...head, error: item.error };
      } else {
        try {
          const verdict = await guard.classify(item.input, options);
          verdicts.push(verdict);
          result = { ...head, verdict: verdictJson(verdict, guard) };
        } catch (error) {
          if (!isGuardError(error)) throw error;
          result = { ...head, error: { code: error.code, message: error.message } };
        }
      }
      if ('error' in result) failed++;
      output.out(`${JSON.stringify(result)}\n`);
      bar?.increment(1, { blocked: verdicts.filter((v) => v.blocked === true).length, errors: failed });
    }
  } finally {
    bar?.stop();
  }
  return { verdicts, failed };
}
