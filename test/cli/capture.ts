/** Runs the real `main()` with captured output, stdin and a progress stream. */
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** What a run printed, and its exit code. */
export interface Run {
  code: number;
  out: string;
  err: string;
  /** What was drawn on the progress stream. */
  progress: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Text on stdin; absent: stdin is an empty terminal (`isTTY`), as in an interactive shell. */
  stdin?: string;
  /** Whether the progress stream is a terminal. @default false */
  progressTTY?: boolean;
}

/** Runs `lingoguard <argv>` through `main()`. */
export async function run(argv: string[], options: RunOptions = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), {
    isTTY: options.stdin === undefined,
  });
  const progress = Object.assign(new PassThrough(), { isTTY: options.progressTTY === true, columns: 120 });
  const drawn: Buffer[] = [];
  progress.on('data', (chunk: Buffer) => drawn.push(chunk));
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), stdin, progress });
  return { code, out: out.join(''), err: err.join(''), progress: Buffer.concat(drawn).toString('utf8') };
}
