/**
 * `modelStorage`: what a browser keeps of lingoguard's models, and the means to keep or drop
 * it. Models download into the origin private file system (see src/common/storage.ts); this
 * reads the same storage from the page, so it works without a loaded guard.
 */
import {
  estimateStorage,
  listStoredModels,
  removeStoredModel,
  type StorageEstimate,
  type StoredModel,
} from './common/storage.js';
import type { ProgressEvent } from './types.js';

export type { StorageEstimate, StoredModel };

/** Downloads smaller than this do not ask for persistent storage: they are cheap to fetch again. */
const BIG_DOWNLOAD = 20 * 1024 * 1024;

let asked: Promise<boolean> | undefined;

/** The model storage of this origin. */
export const modelStorage = {
  /**
   * Space used and available, whether the browser keeps it (`persisted`), and the bytes of
   * stored models.
   * @example
   * const { models, available, persisted } = await modelStorage.estimate();
   */
  estimate(): Promise<StorageEstimate> {
    return estimateStorage();
  },

  /** The stored models: bytes of whole files, and of interrupted downloads a load resumes. */
  list(): Promise<StoredModel[]> {
    return listStoredModels();
  },

  /**
   * Removes every stored file of `model` (a manifest id). A guard that has it loaded keeps
   * working; its next load downloads it again. Resolves whether anything was stored.
   */
  remove(model: string): Promise<boolean> {
    return removeStoredModel(model);
  },

  /**
   * Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`).
   * Guards ask by themselves when a big download starts; call this from a user gesture (a
   * "keep offline" button) where the browser asks its user (Firefox). Resolves whether granted.
   */
  persist(): Promise<boolean> {
    return requestPersistence();
  },
};

async function requestPersistence(): Promise<boolean> {
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!storage?.persist) return false; // workers and Node have no persist()
  try {
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return false;
  }
}

/**
 * Wraps a load's progress callback so the first big download asks for persistent storage:
 * the right moment, when there is something worth keeping and before most of it is written
 * (the worker, where downloads run, cannot ask: `persist()` is a window API).
 */
export function persistOnDownload(onProgress?: (event: ProgressEvent) => void): (event: ProgressEvent) => void {
  return (event) => {
    if (event.status === 'file' && event.cached === false && event.total >= BIG_DOWNLOAD) asked ??= requestPersistence();
    onProgress?.(event);
  };
}
