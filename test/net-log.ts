/**
 * The requests a Chromium made, read from its net log (`--log-net-log=FILE`). Playwright sees a
 * page's and its dedicated workers' requests, not a SharedWorker's (where the guard runs by
 * default): the net log is written by the network service, which every request goes through.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Page } from 'playwright-core';

/** The query that marks {@link NetLog.flush}'s own requests. */
const MARKER = 'lingoguard-net-log=';

/** One browser's net log file. */
export class NetLog {
  private startJobType: number | undefined;

  constructor(readonly file: string) {}

  /** The log's length now: where the requests made from now on start. */
  size(): number {
    try {
      return statSync(this.file).size;
    } catch {
      return 0; // not written yet
    }
  }

  /**
   * Makes requests from `page` until the log holds one: the log is written from a queue, in
   * batches, so this pushes every earlier event into the file too.
   */
  async flush(page: Page): Promise<void> {
    const marker = `${MARKER}${crypto.randomUUID()}`;
    const from = this.size();
    for (let tries = 0; tries < 100; tries++) {
      await page.evaluate((query) => fetch(`/?${query}`, { method: 'HEAD' }).then(() => undefined, () => undefined), marker);
      if (this.read(from, this.size() - from).includes(marker)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Chromium's net log (${this.file}) did not record a request`);
  }

  /**
   * The URLs of the requests started from byte `start` on (call {@link flush} first), in order,
   * made by pages and their workers: the browser's own (update checks, account lookups) have
   * no origin as initiator.
   */
  requestsSince(start: number): string[] {
    const end = this.size();
    if (end <= start) return [];
    const type = this.startJob();
    const urls: string[] = [];
    // Each event is one JSON line, a comma after it.
    for (const line of this.read(start, end - start).split('\n')) {
      if (!line.endsWith(`"type":${type}},`)) continue;
      let params: { url?: string; initiator?: string } | undefined;
      try {
        ({ params } = JSON.parse(line.slice(0, -1)) as { params?: typeof params });
      } catch {
        continue; // the end of a line that began before `start`
      }
      // The event's end (phase 2) has no params; its start names the request.
      if (params?.url !== undefined && params.initiator !== 'not an origin' && !params.url.includes(MARKER)) urls.push(params.url);
    }
    return urls;
  }

  /** The number the log's constants give the event that starts a request's job. */
  private startJob(): number {
    // The first line holds the constants, the event names among them.
    this.startJobType ??= Number(/"URL_REQUEST_START_JOB":(\d+)/.exec(this.read(0, 1 << 20))?.[1] ?? NaN);
    if (!Number.isInteger(this.startJobType)) throw new Error(`no URL_REQUEST_START_JOB in ${this.file}`);
    return this.startJobType;
  }

  private read(start: number, length: number): string {
    if (length <= 0) return '';
    const bytes = Buffer.alloc(length);
    const fd = openSync(this.file, 'r');
    try {
      return bytes.toString('utf8', 0, readSync(fd, bytes, 0, length, start));
    } finally {
      closeSync(fd);
    }
  }
}
