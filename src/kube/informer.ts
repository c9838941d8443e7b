import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { group, version } from '../api/crds.js';
import { slimManagedFields } from './managed-fields.js';

/** A watch-backed cache of one kind, restarted with backoff when its watch fails. */
export interface ResilientInformer<T extends k8s.KubernetesObject> {
  readonly cache: k8s.ObjectCache<T>;
  /** True once the initial list has landed in the cache. */
  readonly synced: boolean;
  /** Resolves after the first successful list; rejects with the error of a failed first list. */
  start(): Promise<void>;
  stop(): Promise<void>;
  onChange(handler: (obj: T) => void): void;
  /** The cached objects whose `indexBy` key is `key` (empty without `indexBy`). */
  indexed(key: string): T[];
}

/** Options for {@link createInformer}. */
export interface InformerOptions<T extends k8s.KubernetesObject> {
  kubeConfig: k8s.KubeConfig;
  /** API path to list and watch, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  list: k8s.ListPromise<T>;
  logger: Logger;
  labelSelector?: string;
  /**
   * Only objects matching this field selector (e.g. `involvedObject.kind=Canary`), on
   * the watch; `list` must apply the same selector.
   */
  fieldSelector?: string;
  /** First and largest delay before restarting a failed watch, in ms. */
  backoff?: { initialMs: number; maxMs: number };
  /** Drops more of a cached object than `slim` does; runs on every add and update. */
  trim?: (obj: T) => void;
  /** A key to look cached objects up by (e.g. an owner's label), kept current by the watch. */
  indexBy?: (obj: T) => string | undefined;
}

/**
 * Wraps client-node's informer: the library stops on a watch error, so this
 * restarts it with exponential backoff and reports the kind's sync state.
 */
export function createInformer<T extends k8s.KubernetesObject>(
  options: InformerOptions<T>,
): ResilientInformer<T> {
  const { kubeConfig, path, list, logger, labelSelector } = options;
  // Capped low: a cache that stays stale after the API server is back stalls releases.
  const { initialMs, maxMs } = options.backoff ?? { initialMs: 500, maxMs: 8_000 };
  let synced = false;
  let delay = initialMs;
  let firstList: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  // client-node reports a failed list through the error callback, not through start():
  // wrapping the list is how we learn that the cache really holds the current state.
  const listed: k8s.ListPromise<T> = async () => {
    try {
      const result = await list();
      synced = true;
      delay = initialMs;
      firstList?.resolve();
      return result;
    } catch (err) {
      firstList?.reject(err);
      throw err;
    }
  };
  // What k8s.makeInformer builds, with the field selector it does not pass on.
  const informer = new k8s.ListWatch<T>(
    path,
    new k8s.Watch(kubeConfig),
    listed,
    false,
    labelSelector,
    options.fieldSelector,
  );
  const handlers: ((obj: T) => void)[] = [];
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const notify = (obj: T) => handlers.forEach((h) => h(obj));
  // client-node keeps in its cache the very object it hands to these callbacks, so
  // slimming it here, before anyone else sees it, is what the cache holds.
  const trim = (obj: T) => {
    slim(obj);
    options.trim?.(obj);
  };
  informer.on('add', trim);
  informer.on('update', trim);
  const index = new Map<string, Map<string, T>>();
  const indexedAs = new Map<string, string>();
  if (options.indexBy) {
    const indexBy = options.indexBy;
    const unindex = (id: string) => {
      const was = indexedAs.get(id);
      if (was === undefined) return;
      index.get(was)?.delete(id);
      if (index.get(was)?.size === 0) index.delete(was);
      indexedAs.delete(id);
    };
    const reindex = (obj: T) => {
      const id = idOf(obj);
      unindex(id);
      const key = indexBy(obj);
      if (key === undefined) return;
      index.set(key, (index.get(key) ?? new Map<string, T>()).set(id, obj));
      indexedAs.set(id, key);
    };
    informer.on('add', reindex);
    informer.on('update', reindex);
    informer.on('delete', (obj) => unindex(idOf(obj)));
  }
  informer.on('add', notify);
  informer.on('update', notify);
  informer.on('delete', notify);
  informer.on('error', (err) => {
    // Before the first sync, start() reports the failure to its caller, which decides.
    // An AbortError is our own restart or stop cancelling the previous watch, and a
    // restart already pending covers any further error. Every failed restart (the
    // list fails while the API server is still down) lands here again: the informer
    // keeps trying, with backoff, until a list succeeds.
    if (stopped || !synced || (err as Error)?.name === 'AbortError' || retryTimer) return;
    logger.warn({ err, path, retryInMs: delay }, 'Watch failed; restarting informer');
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (stopped) return;
      informer
        .start()
        .catch((e: unknown) => logger.error({ err: e, path }, 'Restarting informer failed'));
    }, delay);
    retryTimer.unref();
    delay = Math.min(delay * 2, maxMs);
  });

  return {
    cache: informer,
    get synced() {
      return synced;
    },
    async start() {
      stopped = false;
      const first = new Promise<void>((resolve, reject) => (firstList = { resolve, reject }));
      await informer.start();
      try {
        await first;
      } finally {
        firstList = undefined;
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      await informer.stop();
    },
    onChange(handler) {
      handlers.push(handler);
    },
    indexed(key) {
      return [...(index.get(key)?.values() ?? [])];
    },
  };
}

const idOf = (obj: k8s.KubernetesObject) => `${obj.metadata?.namespace}/${obj.metadata?.name}`;

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what Weir never reads from a cached object: managed fields (but for who
 * applies `spec.replicas`) and kubectl's last-applied annotation are often larger
 * than the rest of the object, and with thousands of Deployments they dominate
 * the controller's memory.
 */
export function slim<T extends k8s.KubernetesObject>(obj: T): T {
  const metadata = obj.metadata;
  if (!metadata) return obj;
  const kept = slimManagedFields(metadata.managedFields);
  if (kept) metadata.managedFields = kept;
  else delete metadata.managedFields;
  if (metadata.annotations) delete metadata.annotations[lastApplied];
  return obj;
}

/** The API path of `plural` under `prefix`, in namespace `ns` (all namespaces when undefined). */
export function scopedPath(ns: string | undefined, prefix: string, plural: string): string {
  return ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`;
}

/** Path and list call of one of Weir's kinds, in `ns` (all when undefined), for {@link createInformer}. */
export function weirKind(
  kubeConfig: k8s.KubeConfig,
  ns: string | undefined,
  plural: string,
  labelSelector?: string,
): Pick<InformerOptions<never>, 'path' | 'list'> {
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const selector = labelSelector ? { labelSelector } : {};
  return {
    path: scopedPath(ns, `/apis/${group}/${version}`, plural),
    list: () =>
      (ns
        ? custom.listNamespacedCustomObject({ group, version, namespace: ns, plural, ...selector })
        : custom.listClusterCustomObject({ group, version, plural, ...selector })) as Promise<
        k8s.KubernetesListObject<never>
      >,
  };
}

/** Path and list call of Deployments, in `ns` (all when undefined), for {@link createInformer}. */
export function deploymentKind(
  kubeConfig: k8s.KubeConfig,
  ns: string | undefined,
): Pick<InformerOptions<k8s.V1Deployment>, 'path' | 'list'> {
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  return {
    path: scopedPath(ns, '/apis/apps/v1', 'deployments'),
    list: () =>
      ns ? apps.listNamespacedDeployment({ namespace: ns }) : apps.listDeploymentForAllNamespaces(),
  };
}
