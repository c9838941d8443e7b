/**
 * The dashboard's watches: one informer per kind (per namespace when namespaces are
 * given), each keeping only what the pages show, so the server's memory follows the
 * size of the views, not of the objects.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersion } from '../api/crds.js';
import type { Canary, CanaryRun } from '../api/types.js';
import { createInformer, deploymentKind, scopedPath, weirKind } from '../kube/informer.js';
import { eventKey, runKey, type DashboardSources, type Source } from './hub.js';
import { capped } from './views.js';

/** Options for {@link createSources}. */
export interface SourcesOptions {
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  /** Watch only these namespaces (namespaced paths); all when empty or unset. */
  namespaces?: readonly string[];
}

/** Only Weir's Events about Canaries (not Flagger's, whose kind has the same name). */
export const canaryEventSelector = `involvedObject.kind=Canary,involvedObject.apiVersion=${apiVersion}`;

/** Builds the four watches (not started). */
export function createSources(options: SourcesOptions): DashboardSources {
  const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
  const perNamespace = namespaces.map((ns) => sourcesIn(options, ns));
  if (perNamespace.length === 1) return perNamespace[0]!;
  return {
    canaries: mergeSources(perNamespace.map((s) => s.canaries)),
    runs: mergeSources(perNamespace.map((s) => s.runs)),
    deployments: mergeSources(perNamespace.map((s) => s.deployments)),
    events: mergeSources(perNamespace.map((s) => s.events)),
  };
}

function sourcesIn(options: SourcesOptions, ns: string | undefined): DashboardSources {
  const { kubeConfig, logger } = options;
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const weir = (plural: string) => ({ kubeConfig, logger, ...weirKind(kubeConfig, ns, plural) });
  return {
    canaries: createInformer<Canary>({ ...weir('canaries'), trim: trimCanary }),
    runs: createInformer<CanaryRun>({ ...weir('canaryruns'), trim: trimRun, indexBy: runKey }),
    deployments: createInformer<k8s.V1Deployment>({
      kubeConfig,
      logger,
      ...deploymentKind(kubeConfig, ns),
      trim: trimDeployment,
    }),
    events: createInformer<k8s.CoreV1Event>({
      kubeConfig,
      logger,
      path: scopedPath(ns, '/api/v1', 'events'),
      fieldSelector: canaryEventSelector,
      list: () =>
        ns
          ? core.listNamespacedEvent({ namespace: ns, fieldSelector: canaryEventSelector })
          : core.listEventForAllNamespaces({ fieldSelector: canaryEventSelector }),
      trim: trimEvent,
      indexBy: eventKey,
    }),
  };
}

/** One source over the same kind's sources in several namespaces. */
export function mergeSources<T extends k8s.KubernetesObject>(sources: Source<T>[]): Source<T> {
  return {
    cache: {
      get: (name, namespace) => {
        for (const s of sources) {
          const found = s.cache.get(name, namespace);
          if (found) return found;
        }
        return undefined;
      },
      list: (namespace) => sources.flatMap((s) => s.cache.list(namespace)),
    },
    indexed: (key) => sources.flatMap((s) => s.indexed(key)),
    onChange: (handler) => sources.forEach((s) => s.onChange(handler)),
    start: async () => void (await Promise.all(sources.map((s) => s.start()))),
    stop: async () => void (await Promise.all(sources.map((s) => s.stop()))),
  };
}

/**
 * A Canary without its machine's state, but for the outbox (the transitions not yet
 * in their run, which the release view shows).
 */
export function trimCanary(canary: Canary): void {
  const machine = canary.status?.machine as { outbox?: unknown } | undefined;
  if (!canary.status || !machine) return;
  canary.status.machine = machine.outbox ? { outbox: machine.outbox } : {};
}

/** A CanaryRun without its delivery bookkeeping. */
export function trimRun(run: CanaryRun): void {
  if (!run.status) return;
  delete run.status.notified;
  for (const t of run.status.transitions ?? []) delete t.deliveries;
}

/**
 * A Deployment cut to what a detail shows: names, labels and annotations, generation,
 * replicas, the containers' names and images, and the rollout counts.
 */
export function trimDeployment(d: k8s.V1Deployment): void {
  const m = d.metadata ?? {};
  d.metadata = pick(m, [
    'name',
    'namespace',
    'uid',
    'resourceVersion',
    'labels',
    'annotations',
    'generation',
  ]);
  const containers = (d.spec?.template?.spec?.containers ?? []).map((c) => ({
    name: c.name,
    ...(c.image !== undefined ? { image: c.image } : {}),
  }));
  d.spec = {
    ...(d.spec?.replicas !== undefined ? { replicas: d.spec.replicas } : {}),
    selector: {},
    template: { spec: { containers } },
  };
  if (d.status)
    d.status = pick(d.status, [
      'replicas',
      'readyReplicas',
      'updatedReplicas',
      'observedGeneration',
    ]);
}

/** An Event cut to what a detail shows, its message capped. */
export function trimEvent(e: k8s.CoreV1Event): void {
  e.metadata = pick(e.metadata ?? {}, [
    'name',
    'namespace',
    'uid',
    'resourceVersion',
    'creationTimestamp',
  ]);
  e.involvedObject = pick(e.involvedObject ?? {}, ['apiVersion', 'kind', 'name', 'namespace']);
  if (e.message !== undefined) e.message = capped(e.message);
  delete e.related;
  delete e.series;
  delete e.source;
  delete e.reportingComponent;
  delete e.reportingInstance;
  delete e.action;
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
