/**
 * The worker's side of the lifeline (see `watchLifeline` in `src/connection.ts`): on request it
 * takes a Web Lock and never lets go. The browser releases a context's locks when it ends, so
 * the main thread, queued on the same lock, hears of a terminated or killed worker at once.
 */
import { LIFELINE, type LifelineMessage } from '../src/protocol.js';

/** Listens for lifeline requests on this worker's global scope. */
export function serveLifeline(): void {
  self.addEventListener('message', (event: MessageEvent) => {
    const name = (event.data as LifelineMessage | null)?.[LIFELINE.hold];
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (typeof name !== 'string' || !locks) return;
    void locks.request(name, () => {
      self.postMessage({ [LIFELINE.held]: name });
      return new Promise<never>(() => undefined); // held until the worker ends
    });
  });
}
