/** Streaming as an async iterable over events pushed by the runtime. */
import { GuardError } from './errors.js';

/** A push-based async iterable: the runtime pushes events, the caller iterates them. */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;
  private ended = false;
  private error: unknown;

  constructor(private readonly onReturn: () => void) {}

  push(item: T): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = this.failWaiting = undefined;
  }

  fail(error: unknown): void {
    this.error = error ?? new GuardError('worker-crashed', 'The stream failed.');
    this.ended = true;
    this.failWaiting?.(this.error);
    this.waiting = this.failWaiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
      return: () => {
        if (!this.ended) this.onReturn();
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
