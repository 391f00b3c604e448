/**
 * A worker that downloads one model's files with the delivery code and reports progress: the
 * test terminates it mid-download, as closing the tab would end the guard's worker.
 */
import { parseManifest } from '../../src/common/manifest.js';
import { verifyModelFiles } from '../../worker/integrity.js';
import { resolveSource } from '../../worker/model-source.js';

self.onmessage = async (event: MessageEvent<{ manifest: unknown; partBytes: number }>) => {
  const manifest = parseManifest(event.data.manifest);
  const source = resolveSource(manifest, { localModelRoot: '/' });
  try {
    await verifyModelFiles(manifest, source, 'fp32', (progress) => self.postMessage({ progress }), { partBytes: event.data.partBytes });
    self.postMessage({ done: true });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
