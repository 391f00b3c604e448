/**
 * One runtime shared by the tabs of an origin (issue 14): each tab talks to it through its own
 * `TabClient`, and the runtime's one queue judges every tab's calls in the order they came.
 * Tabs number their calls and watches from 1 each, so a client renames them to ids unique in
 * the worker. The model loads once, at the first tab's `load()`, and is freed when the last
 * tab leaves (by `dispose()`, or by closing: then its pending calls are dropped).
 */
import { InvalidInputError, isGuardError } from '../src/errors.js';
import type { ClassifyRequest, LoadRequest, WorkerApi } from '../src/protocol.js';
import type { GuardInfo, ProgressEvent, StreamEvent, Verdict } from '../src/types.js';

/** What a loaded request is known by: everything that changes what runs (`warmUp` does not). */
function configuration(request: LoadRequest): string {
  const { warmUp: _warmUp, ...rest } = request;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/** The runtime and who holds it. */
export class SharedRuntime {
  private loading: { key: string; info: Promise<GuardInfo> } | undefined;
  /** The previous model's release, which a new load waits for. */
  private freeing: Promise<void> = Promise.resolve();
  private readonly holders = new Set<TabClient>();
  private nextId = 1;
  /** Model loads this worker started: 1 however many tabs share it (tests read it in `info`). */
  loads = 0;

  /**
   * @param onBroken called when a call fails in a way that means the runtime itself is broken
   * (an untyped error, or a backend error marked `poisoned`): the shared worker then closes, so
   * that every tab's guard reconnects to a fresh one, as a dedicated worker would be replaced.
   */
  constructor(
    private readonly runtime: WorkerApi,
    private readonly onBroken: (error: unknown) => void = () => undefined,
  ) {}

  /** @internal Passes a failure on, closing the worker first when it means the runtime broke. */
  failed(error: unknown): never {
    if (!isGuardError(error) || (error.code === 'backend-unavailable' && error.details.poisoned === true)) this.onBroken(error);
    throw error;
  }

  /** A client for one tab's port. */
  client(): TabClient {
    return new TabClient(this);
  }

  /** @internal A worker-unique id. */
  id(): number {
    return this.nextId++;
  }

  /** @internal */
  get inner(): WorkerApi {
    return this.runtime;
  }

  /** @internal Loads the model once; later tabs asking for the same one get the same info. */
  async hold(client: TabClient, request: LoadRequest, onProgress?: (event: ProgressEvent) => void): Promise<GuardInfo> {
    const key = configuration(request);
    if (this.loading && this.loading.key !== key) {
      // Workers are named by configuration, so only a hand-made connection can get here.
      throw new InvalidInputError('This shared guard worker runs another model configuration.', {
        details: { key: 'model' },
      });
    }
    this.holders.add(client);
    const first = !this.loading;
    if (!this.loading) {
      const started = this.freeing.then(() => {
        this.loads++;
        return this.runtime.load(request, onProgress);
      });
      const loading = { key, info: started };
      this.loading = loading;
      started.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    }
    try {
      const info = await this.loading.info;
      if (!first) onProgress?.({ status: 'ready', info });
      return { ...info, sharing: { shared: true, tabs: this.holders.size, loads: this.loads } };
    } catch (error) {
      this.holders.delete(client);
      throw error;
    }
  }

  /** @internal One tab let go; the model is freed when it was the last. */
  release(client: TabClient): void {
    if (!this.holders.delete(client) || this.holders.size > 0) return;
    // A load still running is let finish first, so that what it loads is freed too.
    const loading = this.loading?.info.catch(() => undefined);
    this.loading = undefined;
    this.freeing = Promise.all([this.freeing, loading])
      .then(() => this.runtime.dispose())
      .catch(() => undefined);
  }
}

/** One tab's view of the shared runtime: the worker contract, with its ids renamed. */
export class TabClient implements WorkerApi {
  /** The tab's call ids → worker ids, while the call is pending. */
  private readonly calls = new Map<number, number>();
  /** The tab's watch ids → worker ids, while the watch keeps a cache. */
  private readonly watches = new Map<number, number>();
  private gone = false;

  constructor(private readonly shared: SharedRuntime) {}

  load(request: LoadRequest, onProgress?: (event: ProgressEvent) => void): Promise<GuardInfo> {
    if (this.gone) return Promise.reject(new InvalidInputError('This tab left the shared guard worker.'));
    return this.shared.hold(this, request, onProgress);
  }

  async classify(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict> {
    if (this.gone) throw new InvalidInputError('This tab left the shared guard worker.');
    const id = this.shared.id();
    this.calls.set(request.id, id);
    let watch = request.watch;
    if (watch) {
      const known = this.watches.get(watch.id) ?? this.shared.id();
      this.watches.set(watch.id, known);
      watch = { ...watch, id: known };
    }
    try {
      return await this.shared.inner.classify({ ...request, id, ...(watch ? { watch } : {}) }, onEvent);
    } catch (error) {
      return this.shared.failed(error);
    } finally {
      this.calls.delete(request.id);
      if (request.watch?.final) this.watches.delete(request.watch.id);
    }
  }

  abort(id: number): void {
    const mapped = this.calls.get(id);
    if (mapped !== undefined) this.shared.inner.abort(mapped);
  }

  async endWatch(id: number): Promise<void> {
    const mapped = this.watches.get(id);
    this.watches.delete(id);
    if (mapped !== undefined) await this.shared.inner.endWatch?.(mapped);
  }

  /** This tab lets go: its pending calls stop, its watches are freed, its hold is released. */
  async dispose(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    for (const id of this.calls.values()) this.shared.inner.abort(id);
    const watches = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(watches.map((id) => this.shared.inner.endWatch?.(id).catch(() => undefined)));
    this.shared.release(this);
  }
}
