/**
 * The guard worker shared by an origin's tabs (issue 14): one per model configuration (the
 * tab names the worker after it), one runtime and one queue for every tab that connects.
 * Each tab's port gets its own comlink endpoint; beside comlink, two raw messages on the port
 * (see `LIFELINE`) tie lives together: the worker holds a lock the tab waits on (the tab
 * learns the worker ended), and the tab holds a lock the worker waits on (the worker learns
 * the tab closed, drops its pending calls and its hold on the model).
 */
import { LIFELINE, type LifelineMessage } from '../src/protocol.js';
import { browserRuntime } from './browser-runtime.js';
import { exposeRuntime } from './expose.js';
import { SharedRuntime } from './shared-runtime.js';

const scope = self as unknown as SharedWorkerGlobalScope;
const ports = new Set<MessagePort>();

/**
 * Closes the worker, telling every tab why first. Closing releases its lifeline locks, so every
 * tab's guard reconnects to a fresh worker.
 */
function end(reason: string): void {
  for (const port of ports) port.postMessage({ [LIFELINE.ended]: reason });
  scope.close();
}

// A broken runtime (a poisoned backend, a lost GPU: see `crashOnDeviceLoss`) ends the worker: an
// uncaught error does not end a SharedWorker by itself, and its tabs would keep a broken one.
const shared = new SharedRuntime(browserRuntime(), (error) => end(`its runtime broke: ${String(error)}`));
scope.addEventListener('error', (event) => end(`an uncaught error: ${event.message}`));

scope.addEventListener('connect', (event: MessageEvent) => {
  const port = event.ports[0];
  if (!port) return;
  const client = shared.client();
  ports.add(port);
  port.addEventListener('message', (message: MessageEvent) => {
    const data = message.data as LifelineMessage | null;
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (!locks || typeof data !== 'object' || data === null) return;
    const lifeline = data[LIFELINE.hold];
    if (typeof lifeline === 'string') {
      void locks.request(lifeline, () => {
        port.postMessage({ [LIFELINE.held]: lifeline });
        return new Promise<never>(() => undefined); // held until the worker ends
      });
    }
    const tab = data[LIFELINE.tab];
    // Granted only once the tab let go of it: closed, or disposed its guard.
    if (typeof tab === 'string') {
      void locks.request(tab, () => {
        ports.delete(port);
        return client.dispose();
      });
    }
  });
  exposeRuntime(client, port);
  port.start();
});
