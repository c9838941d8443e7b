import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** A watch-backed cache of one kind, restarted with backoff when its watch fails. */
export interface ResilientInformer<T extends k8s.KubernetesObject> {
  readonly cache: k8s.ObjectCache<T>;
  /** True once the initial list has landed in the cache. */
  readonly synced: boolean;
  /** Resolves after the first successful list. */
  start(): Promise<void>;
  stop(): Promise<void>;
  onChange(handler: (obj: T) => void): void;
}

/** Options for {@link createInformer}. */
export interface InformerOptions<T extends k8s.KubernetesObject> {
  kubeConfig: k8s.KubeConfig;
  /** API path to list and watch, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  list: k8s.ListPromise<T>;
  logger: Logger;
  labelSelector?: string;
  /** First and largest delay before restarting a failed watch, in ms. */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Wraps client-node's informer: the library stops on a watch error, so this
 * restarts it with exponential backoff and reports the kind's sync state.
 */
export function createInformer<T extends k8s.KubernetesObject>(
  options: InformerOptions<T>,
): ResilientInformer<T> {
  const { kubeConfig, path, list, logger, labelSelector } = options;
  const { initialMs, maxMs } = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const informer = k8s.makeInformer<T>(kubeConfig, path, list, labelSelector);
  const handlers: ((obj: T) => void)[] = [];
  let synced = false;
  let stopped = false;
  let delay = initialMs;
  let retryTimer: NodeJS.Timeout | undefined;

  const notify = (obj: T) => handlers.forEach((h) => h(obj));
  informer.on('add', notify);
  informer.on('update', notify);
  informer.on('delete', notify);
  informer.on('connect', () => {
    delay = initialMs;
  });
  informer.on('error', (err) => {
    if (stopped) return;
    logger.warn({ err, path, retryInMs: delay }, 'Watch failed; restarting informer');
    retryTimer = setTimeout(() => {
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
      await informer.start();
      synced = true;
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      await informer.stop();
    },
    onChange(handler) {
      handlers.push(handler);
    },
  };
}
