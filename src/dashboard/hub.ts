/**
 * The dashboard's one view of the cluster: four watches (Canaries, CanaryRuns,
 * Deployments, Events), however many pages are open. It keeps the rows of the list
 * current and tells subscribers what changed, coalesced: a burst of watch events
 * becomes at most one message per Canary per `coalesceMs`.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Canary, CanaryRun } from '../api/types.js';
import type { ResilientInformer } from '../kube/informer.js';
import { canaryLabel } from '../workloads/generated.js';
import type { CanaryDetail, CanaryRow, StreamMessage } from './model.js';
import { canaryDetail, canaryRow, compareRows, latestRun, offeredActions } from './views.js';

/** What the hub reads one kind through: a {@link ResilientInformer}, or a fake in tests. */
export interface Source<T extends k8s.KubernetesObject> extends Pick<
  ResilientInformer<T>,
  'start' | 'stop' | 'onChange' | 'indexed'
> {
  readonly cache: Pick<k8s.ObjectCache<T>, 'get' | 'list'>;
}

/** The four kinds the dashboard watches. */
export interface DashboardSources {
  canaries: Source<Canary>;
  /** Indexed by `namespace/canary` (the run's `weir.dev/canary` label). */
  runs: Source<CanaryRun>;
  deployments: Source<k8s.V1Deployment>;
  /** Weir's Events about Canaries, indexed by `namespace/canary`. */
  events: Source<k8s.CoreV1Event>;
}

/** The index key of a CanaryRun: its Canary's `namespace/name`. */
export const runKey = (run: CanaryRun): string | undefined => {
  const canary = run.metadata?.labels?.[canaryLabel] ?? run.spec?.canary;
  return canary === undefined ? undefined : `${run.metadata?.namespace}/${canary}`;
};

/** The index key of an Event about a Canary: the Canary's `namespace/name`. */
export const eventKey = (event: k8s.CoreV1Event): string | undefined => {
  const o = event.involvedObject;
  if (o?.kind !== 'Canary' || !o.name) return undefined;
  return `${o.namespace ?? event.metadata?.namespace}/${o.name}`;
};

/** Receives the stream of one page: a snapshot first, then changes. */
export type Listener = (message: StreamMessage) => void;

/** Which Canary a page follows: it also gets that Canary's detail whenever it changes. */
export interface Follow {
  namespace: string;
  name: string;
}

/** Thrown by {@link DashboardHub.subscribe} when `maxSubscribers` pages are open. */
export class TooManySubscribers extends Error {
  constructor(max: number) {
    super(`Too many open dashboard pages (at most ${max}); close one and reload`);
    this.name = 'TooManySubscribers';
  }
}

/** Options for {@link createHub}. */
export interface HubOptions {
  sources: DashboardSources;
  /** Whether actions may be offered in `namespace` (RBAC, and not read-only). */
  mayAct: (namespace: string) => Promise<boolean>;
  logger: Logger;
  /** The shortest time between two messages about the same Canary (default 250 ms). */
  coalesceMs?: number;
  /** Pages open at once (default 200). */
  maxSubscribers?: number;
}

/** The dashboard's shared state; see the file comment. */
export interface DashboardHub {
  start(): Promise<void>;
  /** Stops the watches; subscribers get nothing more. */
  stop(): Promise<void>;
  /** The rows of the list, in display order (see {@link compareRows}). */
  rows(): CanaryRow[];
  /** The detail of one Canary, undefined when it does not exist (or is not watched). */
  detail(namespace: string, name: string): Promise<CanaryDetail | undefined>;
  /**
   * Sends `listener` a snapshot at once, then every change; with `follow`, only that
   * Canary's row and changes, and its detail whenever it changes. Returns the unsubscribe function. Throws
   * {@link TooManySubscribers} when full.
   */
  subscribe(listener: Listener, follow?: Follow): () => void;
  /** Pages subscribed now. */
  readonly subscribers: number;
}

interface Subscriber {
  listener: Listener;
  follow?: string;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const splitKey = (key: string) => {
  const at = key.indexOf('/');
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
};

/** Builds the hub over its sources (not started). */
export function createHub(options: HubOptions): DashboardHub {
  const { sources, logger } = options;
  const coalesceMs = options.coalesceMs ?? 250;
  const maxSubscribers = options.maxSubscribers ?? 200;
  const rows = new Map<string, { row: CanaryRow; json: string }>();
  const subscribers = new Set<Subscriber>();
  const followers = new Map<string, Set<Subscriber>>();
  /** The last detail sent per followed Canary, to send nothing when nothing changed. */
  const lastDetail = new Map<string, string>();
  const dirtyRows = new Set<string>();
  const dirtyDetails = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let stopped = false;

  const send = (s: Subscriber, message: StreamMessage) => {
    try {
      s.listener(message);
    } catch (err) {
      logger.warn({ err }, 'Dashboard subscriber failed; dropping it');
      unsubscribe(s);
    }
  };
  /**
   * A row's change goes to every list page, and to the pages following that Canary only:
   * a page on one Canary needs its row (to know it still exists), not 2,000 others.
   */
  const broadcast = (message: StreamMessage & { type: 'upsert' | 'delete' }, key: string) => {
    for (const s of [...subscribers])
      if (s.follow === undefined || s.follow === key) send(s, message);
  };

  const schedule = () => {
    if (timer || flushing || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      flushing = flush()
        .catch((err: unknown) => logger.error({ err }, 'Updating dashboard pages failed'))
        .finally(() => {
          flushing = undefined;
          if (dirtyRows.size > 0 || dirtyDetails.size > 0) schedule();
        });
    }, coalesceMs);
    timer.unref();
  };
  const changed = (key: string | undefined, what: { row: boolean }) => {
    if (key === undefined) return;
    if (what.row) dirtyRows.add(key);
    if (followers.has(key)) dirtyDetails.add(key);
    schedule();
  };

  /** The row of one Canary from the caches, undefined when it is gone. */
  const rowOf = (key: string): CanaryRow | undefined => {
    const { namespace, name } = splitKey(key);
    const canary = sources.canaries.cache.get(name, namespace);
    return canary ? canaryRow(canary, latestRun(canary, sources.runs.indexed(key))) : undefined;
  };

  const mayAct = async (namespace: string) => {
    try {
      return await options.mayAct(namespace);
    } catch (err) {
      logger.warn({ err, namespace }, 'Asking whether actions are allowed failed; hiding them');
      return false;
    }
  };

  const detail = async (namespace: string, name: string) => {
    const canary = sources.canaries.cache.get(name, namespace);
    if (!canary) return undefined;
    const key = keyOf(namespace, name);
    const target = canary.spec.targetRef;
    const deployment = (n: string) =>
      target.kind === 'Deployment' ? sources.deployments.cache.get(n, namespace) : undefined;
    return canaryDetail(
      canary,
      sources.runs.indexed(key),
      deployment(target.name),
      deployment(`${target.name}-primary`),
      sources.events.indexed(key),
      offeredActions(canary, await mayAct(namespace)),
    );
  };

  async function flush() {
    for (const key of takeAll(dirtyRows)) {
      const row = rowOf(key);
      if (!row) {
        if (rows.delete(key)) broadcast({ type: 'delete', ...splitKey(key) }, key);
        continue;
      }
      const json = JSON.stringify(row);
      if (rows.get(key)?.json === json) continue;
      rows.set(key, { row, json });
      broadcast({ type: 'upsert', row }, key);
    }
    for (const key of takeAll(dirtyDetails)) {
      const { namespace, name } = splitKey(key);
      const d = await detail(namespace, name);
      const pages = followers.get(key);
      if (!d || !pages || stopped) continue;
      const json = JSON.stringify(d);
      if (lastDetail.get(key) === json) continue;
      lastDetail.set(key, json);
      for (const s of pages) send(s, { type: 'detail', detail: d });
    }
  }

  function unsubscribe(s: Subscriber) {
    subscribers.delete(s);
    if (s.follow === undefined) return;
    const pages = followers.get(s.follow);
    pages?.delete(s);
    if (pages?.size === 0) {
      followers.delete(s.follow);
      lastDetail.delete(s.follow);
    }
  }

  sources.canaries.onChange((c) =>
    changed(keyOf(c.metadata.namespace ?? '', c.metadata.name ?? ''), { row: true }),
  );
  sources.runs.onChange((r) => changed(runKey(r), { row: true }));
  sources.events.onChange((e) => changed(eventKey(e), { row: false }));
  sources.deployments.onChange((d) => {
    // Only followed Canaries show Deployments: find the ones this is the target or primary of.
    const namespace = d.metadata?.namespace ?? '';
    for (const key of followers.keys()) {
      const { namespace: ns, name } = splitKey(key);
      const target =
        ns === namespace ? sources.canaries.cache.get(name, ns)?.spec.targetRef : undefined;
      if (target && [target.name, `${target.name}-primary`].includes(d.metadata?.name ?? ''))
        changed(key, { row: false });
    }
  });

  const all = Object.values(sources) as Source<k8s.KubernetesObject>[];
  const sortedRows = () => [...rows.values()].map((r) => r.row).sort(compareRows);
  return {
    async start() {
      stopped = false;
      await Promise.all(all.map((s) => s.start()));
      for (const c of sources.canaries.cache.list()) {
        const key = keyOf(c.metadata.namespace ?? '', c.metadata.name ?? '');
        const row = rowOf(key)!;
        rows.set(key, { row, json: JSON.stringify(row) });
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      subscribers.clear();
      followers.clear();
      await Promise.all(all.map((s) => s.stop()));
      await flushing;
    },
    rows: sortedRows,
    detail,
    subscribe(listener, follow) {
      if (subscribers.size >= maxSubscribers) throw new TooManySubscribers(maxSubscribers);
      const s: Subscriber = { listener };
      subscribers.add(s);
      const followed = follow && keyOf(follow.namespace, follow.name);
      const all = sortedRows();
      send(s, {
        type: 'snapshot',
        rows: followed ? all.filter((r) => keyOf(r.namespace, r.name) === followed) : all,
      });
      if (follow) {
        const key = followed!;
        s.follow = key;
        followers.set(key, (followers.get(key) ?? new Set()).add(s));
        detail(follow.namespace, follow.name).then(
          (d) => {
            if (!d || !subscribers.has(s)) return;
            // The first page following it sets what later changes are compared with.
            if (!lastDetail.has(key)) lastDetail.set(key, JSON.stringify(d));
            send(s, { type: 'detail', detail: d });
          },
          (err: unknown) => logger.error({ err, canary: key }, 'Building a Canary detail failed'),
        );
      }
      return () => unsubscribe(s);
    },
    get subscribers() {
      return subscribers.size;
    },
  };
}

/** The members of `set`, which is emptied. */
function takeAll(set: Set<string>): string[] {
  const members = [...set];
  set.clear();
  return members;
}
