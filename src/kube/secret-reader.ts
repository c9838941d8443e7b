import type * as k8s from '@kubernetes/client-node';

/** What {@link SecretReader} needs: the metadata-only cache, and a GET by name. */
export interface SecretReaderOptions {
  /** The Secret's metadata from a metadata-only watch, or undefined when it does not exist. */
  metadata(namespace: string, name: string): k8s.V1ObjectMeta | undefined;
  /** GET one Secret by name; undefined when the API server says it does not exist. */
  read(namespace: string, name: string): Promise<k8s.V1Secret | undefined>;
}

/**
 * Secret data only for the Secrets something references. The controller watches
 * Secrets' metadata alone (it learns that a Secret exists or changed, never its
 * contents), and GETs a Secret by name when a Canary's target, MetricTemplate or
 * AlertProvider names it, keeping that one copy until its resourceVersion moves.
 *
 * `load` fetches (at most one request per Secret at a time); `get` answers from
 * what was loaded, synchronously, so pure code can read it. A Secret changed since
 * its load is answered from the older copy until the next load: the same
 * eventual consistency an informer cache gives.
 */
export class SecretReader {
  private readonly loaded = new Map<string, k8s.V1Secret>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: SecretReaderOptions) {}

  /** Makes `get(namespace, name)` current: a GET unless the loaded copy is. */
  load(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const meta = this.options.metadata(namespace, name);
    if (!meta) {
      this.loaded.delete(key);
      return Promise.resolve();
    }
    const have = this.loaded.get(key);
    if (have && have.metadata?.resourceVersion === meta.resourceVersion) return Promise.resolve();
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const fetching = this.options
      .read(namespace, name)
      .then((secret) => {
        if (secret) this.loaded.set(key, secret);
        else this.loaded.delete(key);
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, fetching);
    return fetching;
  }

  /** Loads several Secrets of one namespace; the first failure rejects. */
  async loadAll(namespace: string, names: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(names)].map((n) => this.load(namespace, n)));
  }

  /** The loaded Secret, or undefined when it was never loaded or no longer exists. */
  get(namespace: string, name: string): k8s.V1Secret | undefined {
    const key = `${namespace}/${name}`;
    if (!this.options.metadata(namespace, name)) {
      this.loaded.delete(key);
      return undefined;
    }
    return this.loaded.get(key);
  }

  /** Drops the copy of a deleted Secret (called from the metadata watch). */
  forget(namespace: string, name: string): void {
    this.loaded.delete(`${namespace}/${name}`);
  }

  /** How many Secrets' data the controller holds (for a test, or a gauge). */
  get size(): number {
    return this.loaded.size;
  }
}
