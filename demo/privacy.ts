/**
 * The privacy panel: lists every network request the page and its worker made since load
 * (Resource Timing), and checks that none carried the text being classified.
 */

/** Watches resource requests and renders them into `list`, flagging any that held the text. */
export function watchRequests(list: HTMLElement, currentTexts: () => string[]): void {
  const add = (entry: PerformanceEntry) => {
    const url = entry.name;
    const item = document.createElement('li');
    const sameOrigin = new URL(url, location.href).origin === location.origin;
    const leaked = currentTexts().some((text) => text.trim().length >= 4 && decodeURIComponent(url).includes(text.trim()));
    item.textContent = `${sameOrigin ? 'this page' : 'ELSEWHERE'} · ${url.replace(location.origin, '')}${leaked ? ' · CONTAINS THE TEXT' : ''}`;
    item.dataset.origin = sameOrigin ? 'self' : 'other';
    item.dataset.leak = String(leaked);
    list.append(item);
  };
  performance.getEntriesByType('resource').forEach(add);
  new PerformanceObserver((entries) => entries.getEntries().forEach(add)).observe({ type: 'resource' });
}
