/**
 * The privacy panel: every request the page and its guard worker made since load, whether any
 * left this site, and whether any URL carried a text that was checked. Also shows the page's
 * Content-Security-Policy, which is what actually keeps requests on this site.
 */
import type { GuardInfo } from '../src/index.js';
import { isRequestReport, observeRequests, type RequestRecord } from './request-log.js';

/** What the rest of the page tells the panel. */
export interface PrivacyPanel {
  /** Lists the requests that `worker` reports (see `worker.ts`). */
  watchWorker(worker: Worker): void;
  /** Remembers a text that was given to the guard, to look for it in every request. */
  checked(text: string): void;
  /** Says where the guard runs: `remote` when every checked text is sent to a server. */
  runsOn(remote: GuardInfo['remote']): void;
}

/** Starts the panel on the page's elements. */
export function privacyPanel(elements: { list: HTMLElement; summary: HTMLElement; policy: HTMLElement }): PrivacyPanel {
  const records: RequestRecord[] = [];
  const texts = new Set<string>();
  let remote: GuardInfo['remote'];
  let scheduled = false;
  const update = (more: RequestRecord[] = []) => {
    records.push(...more);
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      render(elements, records, [...texts], remote);
    }, 50);
  };
  elements.policy.textContent = describePolicy();
  observeRequests('page', update);
  return {
    watchWorker(worker) {
      worker.addEventListener('message', (event: MessageEvent<unknown>) => {
        if (isRequestReport(event.data)) update(event.data.records);
      });
    },
    checked(text) {
      if (text.trim()) texts.add(text.trim());
      update();
    },
    runsOn(server) {
      remote = server;
      update();
    },
  };
}

function render(elements: { list: HTMLElement; summary: HTMLElement }, records: RequestRecord[], texts: string[], remote: GuardInfo['remote']): void {
  let elsewhere = 0;
  let carrying = 0;
  const items = records.map((record) => {
    const url = new URL(record.url, location.href);
    const local = url.origin === location.origin; // blob: URLs have their creator's origin
    const leak = texts.some((text) => carries(record.url, text));
    if (!local) elsewhere++;
    if (leak) carrying++;
    const item = document.createElement('li');
    item.textContent = `${record.from} · ${record.initiator} · ${local ? url.href.replace(location.origin, '') : url.href}` +
      `${local ? '' : ' · ANOTHER HOST'}${leak ? ' · CARRIES YOUR TEXT' : ''}`;
    Object.assign(item.dataset, { origin: local ? 'self' : 'other', leak: String(leak), from: record.from });
    if (!local || leak) item.className = 'alarm';
    return item;
  });
  elements.list.replaceChildren(...items);
  const fromWorker = records.filter((record) => record.from === 'worker').length;
  const host = location.host;
  // A remote guard sends every text to its server in a request body (as token ids), which no
  // URL shows: say so first, and plainly.
  const server = remote === undefined ? '' : `YOUR TEXT LEAVES THIS PAGE: the guard runs on ${new URL(remote.url).host} (${remote.model}), which receives every text you check. `;
  elements.summary.textContent =
    server +
    `${records.length} requests (${records.length - fromWorker} by the page, ${fromWorker} by the guard worker): ` +
    `${records.length - elsewhere} to this site (${host}), ${elsewhere} to other hosts. ` +
    (texts.length === 0
      ? 'No text checked yet.'
      : carrying === 0
        ? `None carried any of the ${texts.length} text(s) you checked.`
        : `${carrying} carried a text you checked!`);
  elements.summary.classList.toggle('alarm', remote !== undefined || elsewhere > 0 || carrying > 0);
}

/** Whether `url` holds `text`, plain or URL-encoded. */
function carries(url: string, text: string): boolean {
  let decoded = url;
  try {
    decoded = decodeURIComponent(url.replaceAll('+', ' '));
  } catch {
    // A malformed escape: the raw URL is still checked.
  }
  return url.includes(text) || decoded.includes(text);
}

function describePolicy(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[http-equiv="Content-Security-Policy"]');
  if (!meta) {
    return 'This is the dev server: it sends no Content-Security-Policy. The built page (npm run demo:build) has one that lets it connect only to this site and the model host.';
  }
  const connect = meta.content.split(';').map((part) => part.trim()).find((part) => part.startsWith('connect-src'));
  const hosts = connect?.split(/\s+/).slice(1).map((host) => (host === "'self'" ? 'this site' : host)).join(', ') ?? '(no connect-src!)';
  return `Content-Security-Policy: the page and its worker may connect only to ${hosts}; the browser blocks anything else.`;
}
