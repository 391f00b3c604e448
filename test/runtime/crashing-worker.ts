/**
 * The real guard worker, plus one way to kill it from a test: a `crash` message makes it throw
 * an uncaught error, as a broken backend would. Test-only; the shipped worker has no such door.
 */
import '../../worker/entry.js';

self.addEventListener('message', (event: MessageEvent) => {
  if ((event.data as { crash?: boolean } | null)?.crash === true) {
    setTimeout(() => {
      throw new Error('crashed on purpose by the test');
    });
  }
});
