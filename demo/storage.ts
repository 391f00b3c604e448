/**
 * The model section's download and storage display, through lingoguard's public API only:
 * progress events for the download (bytes, speed, a resume), `modelStorage` for what this
 * browser keeps (space, persistence, each model's stored size, removal).
 */
import { modelStorage, type ProgressEvent, type StoredModel } from 'lingoguard';

/** One file's download, as its progress events tell it. */
interface FileDownload {
  /** Bytes stored before this load: a download's first event says where it starts. */
  startedAt: number;
  loaded: number;
  total: number;
}

/**
 * Follows one load's progress events. The files lingoguard verifies come as `file` events with
 * `cached` set (`true`: stored whole already; `false`: downloading, the first event at the
 * bytes already stored, so `loaded > 0` there is a resumed download). Speed is the bytes
 * fetched in this load over the time since its first download event.
 */
export class DownloadTracker {
  private readonly downloads = new Map<string, FileDownload>();
  private stored = { files: 0, bytes: 0 };
  private firstAt: number | undefined;
  private lastAt = 0;
  /** transformers.js' own total, for files without a hash (it fetches those itself). */
  private fallback: { loaded: number; total: number } | undefined;

  /** Takes one event; returns whether the display should change. */
  add(event: ProgressEvent, now = performance.now()): boolean {
    if (event.status === 'total') {
      if (event.total > 0) this.fallback = { loaded: event.loaded, total: event.total };
      return this.downloads.size === 0;
    }
    if (event.status !== 'file' || event.cached === undefined) return false;
    if (event.cached) {
      this.stored.files++;
      this.stored.bytes += event.total;
      return true;
    }
    const known = this.downloads.get(event.file);
    if (known) {
      known.loaded = event.loaded;
      known.total = event.total;
    } else this.downloads.set(event.file, { startedAt: event.loaded, loaded: event.loaded, total: event.total });
    this.firstAt ??= now;
    this.lastAt = now;
    return true;
  }

  /** Bytes fetched in this load, and the bytes a resume did not fetch again. */
  get fetched(): number {
    let sum = 0;
    for (const file of this.downloads.values()) sum += file.loaded - file.startedAt;
    return sum;
  }

  get resumedAt(): number {
    let sum = 0;
    for (const file of this.downloads.values()) sum += file.startedAt;
    return sum;
  }

  /** 0..1 for the progress bar. */
  get fraction(): number {
    let loaded = 0;
    let total = 0;
    for (const file of this.downloads.values()) {
      loaded += file.loaded;
      total += file.total;
    }
    if (total > 0) return loaded / total;
    return this.fallback ? this.fallback.loaded / this.fallback.total : 0;
  }

  /** Bytes per second, once there is a measured interval. */
  get speed(): number | undefined {
    const seconds = this.firstAt === undefined ? 0 : (this.lastAt - this.firstAt) / 1000;
    return seconds > 0 ? this.fetched / seconds : undefined;
  }

  /** What the load did so far, in one line. */
  describe(done: boolean): string {
    const parts: string[] = [];
    if (this.downloads.size > 0) {
      let loaded = 0;
      let total = 0;
      for (const file of this.downloads.values()) {
        loaded += file.loaded;
        total += file.total;
      }
      const speed = this.speed;
      parts.push(
        done ? `Downloaded ${this.downloads.size} files, ${size(total)}` : `Downloading: ${size(loaded)} of ${size(total)}`,
        ...(speed === undefined ? [] : [`${size(speed)}/s`]),
        ...(this.resumedAt > 0 ? [`resumed at ${size(this.resumedAt)} (stored before)`] : []),
        `verified`,
      );
    } else if (this.fallback) {
      parts.push(`${size(this.fallback.loaded)} of ${size(this.fallback.total)}`);
    }
    if (this.stored.files > 0) parts.push(`${this.stored.files} files (${size(this.stored.bytes)}) from this browser’s storage`);
    return parts.join(' · ');
  }
}

/** The elements of the storage display. */
export interface StorageElements {
  /** About the model that runs. */
  stored: HTMLElement;
  space: HTMLElement;
  persisted: HTMLElement;
  persistButton: HTMLButtonElement;
  /** Every stored model, each with a Remove button. */
  list: HTMLUListElement;
}

/**
 * Shows what this browser stores: the running model's files, the space, persistence, and each
 * stored model with its remove button. `onRemoved` runs after a removal (the page refreshes).
 */
export async function showStorage(elements: StorageElements, model: string, onRemoved: () => void): Promise<void> {
  const [estimate, models] = await Promise.all([modelStorage.estimate(), modelStorage.list()]);
  elements.stored.textContent = describeStored(models.find((entry) => entry.model === model));
  elements.space.textContent = estimate.quota > 0
    ? `${size(estimate.usage)} used, ${size(estimate.available)} available (models: ${size(estimate.models)})`
    : 'not reported by this browser';
  elements.persisted.textContent = estimate.persisted ? 'yes: kept under storage pressure' : 'no: the browser may evict it';
  elements.persisted.dataset.persisted = String(estimate.persisted);
  elements.persistButton.disabled = estimate.persisted;
  elements.list.replaceChildren(...models.map((entry) => storedRow(entry, entry.model === model, async () => {
    await modelStorage.remove(entry.model);
    onRemoved();
  })));
  if (models.length === 0) {
    const none = document.createElement('li');
    none.className = 'hint';
    none.textContent = 'No model stored.';
    elements.list.append(none);
  }
}

function describeStored(entry: StoredModel | undefined): string {
  if (!entry || (entry.files.length === 0 && entry.partialBytes === 0)) return 'Not stored in this browser: the next load downloads it.';
  const whole = `Stored in this browser: ${entry.files.length} files, ${size(entry.bytes)}`;
  return entry.partialBytes > 0 ? `${whole}, and ${size(entry.partialBytes)} of an interrupted download (the next load resumes it).` : `${whole}.`;
}

function storedRow(entry: StoredModel, running: boolean, remove: () => Promise<void>): HTMLLIElement {
  const row = document.createElement('li');
  row.dataset.model = entry.model;
  const name = document.createElement('span');
  name.textContent = `${entry.model}${running ? ' (this one)' : ''}: ${size(entry.bytes + entry.partialBytes)}${entry.partialBytes > 0 ? ', partly downloaded' : ''}`;
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Remove';
  button.setAttribute('aria-label', `Remove ${entry.model}`);
  button.addEventListener('click', () => {
    button.disabled = true;
    void remove();
  });
  row.append(name, ' ', button);
  return row;
}

/** Bytes for reading: kB below a megabyte (the test models are small), else MB or GB. */
export function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}
