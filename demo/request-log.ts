/**
 * Requests as Resource Timing sees them, from the page and from the guard worker. Each side
 * can only read its own timeline, so the worker reports its entries to the page in a message.
 * Imported by both sides: no DOM here.
 */

/** One request, as much as Resource Timing tells (no method, headers or body). */
export interface RequestRecord {
  url: string;
  /** `fetch`, `script`, `link`, `other`... */
  initiator: string;
  /** Whose timeline it came from. */
  from: 'page' | 'worker';
}

/** The message the demo worker posts. It has no `id`, so comlink on the same port ignores it. */
export interface RequestReport {
  type: 'lingoguard-demo:requests';
  records: RequestRecord[];
}

/** Calls `onRecords` with every request made so far in this realm, then with each new one. */
export function observeRequests(from: RequestRecord['from'], onRecords: (records: RequestRecord[]) => void): void {
  const toRecords = (entries: PerformanceEntryList) =>
    entries.map((entry) => ({ url: entry.name, initiator: (entry as PerformanceResourceTiming).initiatorType, from }));
  // An observer has no buffer limit (the timeline keeps only 250 entries by default).
  new PerformanceObserver((list) => onRecords(toRecords(list.getEntries()))).observe({ type: 'resource', buffered: true });
}

/** Whether `data` is a worker's request report. */
export function isRequestReport(data: unknown): data is RequestReport {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'lingoguard-demo:requests';
}
