import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { group, version } from '../api/crds.js';
import type { Canary, CanaryRun } from '../api/types.js';
import { createKubeAccess, type KubeAccess } from '../kube/access.js';
import type { ResilientInformer } from '../kube/informer.js';
import { SecretReader } from '../kube/secret-reader.js';
import { buildRouters } from '../routers/routers.js';
import type { Clock } from '../util/clock.js';
import type { OutboundOptions } from '../util/outbound.js';
import { WeirError } from '../errors.js';
import { referencedConfigs } from '../workloads/configs.js';
import { MetricChecks, type MetricChecksOptions } from '../analysis/metric-checks.js';
import { buildMetricProviders } from '../analysis/providers.js';
import { buildNotifiers } from '../notifications/notifiers.js';
import { DeliveryPlanner } from '../notifications/delivery-plan.js';
import { DeliveryQueue } from '../notifications/delivery-queue.js';
import { WebhookChecks } from '../webhooks/webhook-checks.js';
import { WebhookClient, type WebhookClientOptions } from '../webhooks/webhook-client.js';
import { allChecks } from './checks.js';
import { type CheckRunner } from '../contracts/checks.js';
import { targetOf, type Caches } from './observe.js';
import { Reconciler } from './reconciler.js';
import { allInformers, createInformers, type Informers } from './informers.js';
import { Recorder } from './recorder.js';
import { Telemetry } from './telemetry.js';
import { WorkQueue } from './work-queue.js';

/** Options for {@link createController}. */
export interface ControllerOptions {
  /** Shares connections and bounds requests in time: see `controllerKubeConfig`. */
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  /** Only this namespace; all when unset. */
  namespace?: string;
  /** Only Canaries with these labels (a shard). */
  labelSelector?: string;
  defaultProvider: string;
  concurrency: number;
  /** Prometheus for built-in metrics and inline queries (`--metrics-server`). */
  metricsServer?: string;
  /** Whether Canaries may use MetricTemplates (and AlertProviders) of other namespaces. */
  crossNamespaceRefs?: boolean;
  /** Watch Knative Services, so that Canaries can target them (`--knative`). */
  knative?: boolean;
  /** Watch StatefulSets, so that Canaries can target them (`--statefulsets`). */
  statefulSets?: boolean;
  /** What Canary-written queries and headers may reach `--metrics-server` (default: none). */
  metricsPolicy?: Pick<MetricChecksOptions, 'allowInlineQueries' | 'allowMetricsServerHeaders'>;
  /** AlertProvider for Canaries without `alerts` (`--alert-provider`). */
  defaultAlertProvider?: { namespace: string; name: string };
  /** Retry backoff of webhooks and notifications (tests shorten it). */
  webhookBackoff?: WebhookClientOptions;
  /** Egress policy and response limits of webhooks, notifications and metric queries. */
  outbound?: OutboundOptions;
  /** Replaces the analysis checks (tests script them). */
  checks?: CheckRunner;
  /** Overrides the API access layer (tests count writes through it). */
  kube?: KubeAccess;
  /** Asked before every write: false once this replica has lost leadership. */
  mayWrite?: () => boolean;
}

/** The running controller: informers feeding one work queue of Canary keys. */
export interface Controller {
  readonly informers: Informers;
  /** Every informer's cache holds the cluster's state. */
  readonly synced: boolean;
  readonly queue: WorkQueue;
  /** Notifications and event webhooks waiting or in flight. */
  readonly deliveries: DeliveryQueue;
  /** Fills the informer caches (a standby does this too, to take over warm). */
  start(): Promise<void>;
  /** Starts reconciling (the leader, or every replica without leader election). */
  startWorkers(): void;
  /** Stops reconciling but keeps the caches (leadership lost). */
  stopWorkers(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires informers, the work queue, the reconciler and the recorder together. */
export function createController(options: ControllerOptions): Controller {
  const { kubeConfig, logger, registry, clock } = options;
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const kube = options.kube ?? createKubeAccess(kubeConfig, options.mayWrite);
  const telemetry = new Telemetry(registry);
  const informers = createInformers({
    kubeConfig,
    logger,
    registry,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
    knative: Boolean(options.knative),
    statefulSets: Boolean(options.statefulSets),
  });
  const {
    canaries,
    runs,
    deployments,
    daemonSets,
    statefulSets,
    knativeServices,
    templates,
    alertProviders,
    configMaps,
    secrets,
  } = informers;
  telemetry.cacheSizes({
    canaries: () => canaries.cache.list().length,
    runs: () => runs.cache.list().length,
    deployments: () => deployments.cache.list().length,
  });
  const secretReader = new SecretReader({
    metadata: (namespace, name) => secrets.cache.get(name, namespace)?.metadata,
    read: async (namespace, name) => {
      try {
        return await core.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
  });

  const caches: Caches = {
    canary: (namespace, name) => canaries.cache.get(name, namespace),
    deployment: (namespace, name) => deployments.cache.get(name, namespace),
    daemonSet: (namespace, name) => daemonSets.cache.get(name, namespace),
    statefulSet: statefulSets
      ? (namespace, name) => statefulSets.cache.get(name, namespace)
      : undefined,
    knativeService: knativeServices
      ? (namespace, name) => knativeServices.cache.get(name, namespace)
      : undefined,
    configMap: (namespace, name) => configMaps.cache.get(name, namespace),
    secret: (namespace, name) => secretReader.get(namespace, name),
  };
  const routers = buildRouters({
    kube,
    kubeConfig,
    logger,
    target: (c) => targetOf(c, caches),
  });
  const webhookClient = new WebhookClient({
    ...options.webhookBackoff,
    egress: options.outbound?.egress,
  });
  const deliveries = new DeliveryQueue({ client: webhookClient, logger, registry });
  const planner = new DeliveryPlanner({
    notifiers: buildNotifiers(),
    alertProviders: (namespace, name) => alertProviders.cache.get(name, namespace),
    secrets: (namespace, name) => secretReader.get(namespace, name),
    loadSecret: (namespace, name) => secretReader.load(namespace, name),
    ...(options.defaultAlertProvider ? { defaultProvider: options.defaultAlertProvider } : {}),
    crossNamespaceRefs: options.crossNamespaceRefs ?? true,
  });
  const recorder = new Recorder({
    kube,
    logger,
    telemetry,
    dispatch: {
      prepare: (canary) => planner.prepare(canary),
      plan: (canary, entry, run) => planner.plan(canary, entry, run),
      send: (ds) => deliveries.enqueue(ds),
    },
    runsOf: (namespace, canary) => runs.indexed(`${namespace}/${canary}`),
    readRun: async (namespace, name) =>
      (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: 'canaryruns',
        name,
      })) as CanaryRun,
  });
  const metricChecks = new MetricChecks({
    registry: buildMetricProviders({
      egress: options.outbound?.egress,
      maxResponseBytes: options.outbound?.maxMetricsResponseBytes,
      trustedAddresses: options.metricsServer ? [options.metricsServer] : [],
      now: () => clock.now(),
    }),
    templates: (namespace, name) => templates.cache.get(name, namespace),
    secrets: (namespace, name) => secretReader.get(namespace, name),
    loadSecret: (namespace, name) => secretReader.load(namespace, name),
    ...(options.metricsServer ? { defaultAddress: options.metricsServer } : {}),
    defaultProvider: options.defaultProvider,
    crossNamespaceRefs: options.crossNamespaceRefs ?? true,
    ...options.metricsPolicy,
    metrics: registry,
    now: () => clock.now(),
  });
  // The queue is built after the reconciler; completions of background checks reach it through this.
  let enqueue: (key: string) => void = () => undefined;
  const reconciler = new Reconciler({
    enqueue: (key) => enqueue(key),
    kube,
    routers,
    recorder,
    telemetry,
    clock,
    logger,
    checks: options.checks ?? allChecks(metricChecks, new WebhookChecks(webhookClient)),
    defaultProvider: options.defaultProvider,
    caches,
    loadSecrets: (namespace, names) => secretReader.loadAll(namespace, names),
  });

  const queue = new WorkQueue({
    clock,
    logger,
    concurrency: options.concurrency,
    onDepth: (d) => telemetry.queued(d),
    handler: async (key) => {
      const ended = telemetry.reconcileStarted();
      let failed = true;
      try {
        const result = await reconciler.reconcile(key);
        failed = false;
        return result;
      } finally {
        ended(failed);
      }
    },
  });

  enqueue = (key) => queue.add(key);

  const keyOf = (o: k8s.KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  canaries.onChange((c) => {
    // The echo of Weir's own status write would cost a reconcile per step for nothing.
    const gone = !canaries.cache.get(c.metadata!.name!, c.metadata!.namespace);
    if (gone || !reconciler.isOwnEcho(c as Canary)) queue.add(keyOf(c));
  });
  // A workload matters to the Canaries that target it or own it as their primary.
  const workloadChanged = (kind: string) => (d: k8s.KubernetesObject) => {
    const name = d.metadata?.name ?? '';
    for (const c of canaries.cache.list(d.metadata?.namespace)) {
      const target = c.spec?.targetRef;
      if ((target?.kind ?? 'Deployment') !== kind) continue;
      if (target?.name === name || `${target?.name}-primary` === name) queue.add(keyOf(c));
    }
  };
  deployments.onChange(workloadChanged('Deployment'));
  daemonSets.onChange(workloadChanged('DaemonSet'));
  statefulSets?.onChange(workloadChanged('StatefulSet'));
  knativeServices?.onChange(workloadChanged('Service'));

  // A config matters to the Canaries whose target uses it.
  const configChanged = (kind: 'configMaps' | 'secrets') => (o: k8s.KubernetesObject) => {
    for (const c of canaries.cache.list(o.metadata?.namespace)) {
      const target = targetOf(c, caches);
      if (referencedConfigs(target?.spec?.template)[kind].includes(o.metadata?.name ?? ''))
        queue.add(keyOf(c));
    }
  };
  // A MetricTemplate matters to the Canaries that use it (their provider probe).
  templates.onChange((t) => {
    for (const c of canaries.cache.list()) {
      const uses = (c.spec?.analysis?.metrics ?? []).some(
        (m) =>
          m.templateRef?.name === t.metadata?.name &&
          (m.templateRef?.namespace ?? c.metadata.namespace) === t.metadata?.namespace,
      );
      if (uses) queue.add(keyOf(c));
    }
  });
  configMaps.onChange(configChanged('configMaps'));
  secrets.onChange((s) => {
    const { namespace = '', name = '' } = s.metadata ?? {};
    if (!secrets.cache.get(name, namespace)) secretReader.forget(namespace, name);
    configChanged('secrets')(s);
  });

  return {
    informers,
    queue,
    deliveries,
    get synced() {
      return allInformers(informers).every((i) => i.synced);
    },
    async start() {
      // The Canaries last: their first reconciles find every other cache filled.
      const others = allInformers(informers).filter((i) => i !== (canaries as unknown));
      await Promise.all(
        others.map((i) =>
          startWithRetry(
            i,
            logger,
            i === (knativeServices as unknown)
              ? 'Knative Serving is not installed in this cluster (serving.knative.dev/v1 services not found): install it, or start Weir without --knative'
              : undefined,
          ),
        ),
      );
      await startWithRetry(canaries as never, logger);
    },
    startWorkers() {
      queue.start();
      for (const c of canaries.cache.list()) queue.add(keyOf(c));
    },
    async stopWorkers() {
      await queue.stop();
      reconciler.stop();
      // Notifications already claimed in a CanaryRun are still sent: claimed means
      // no other replica sends them (at most once), and they write nothing to the API.
    },
    async stop() {
      // In-flight reconciles finish first; then the watches and the notification queue stop.
      await queue.stop();
      reconciler.stop();
      await Promise.allSettled(allInformers(informers).map((i) => i.stop()));
      await deliveries.stop();
    },
  };
}

/**
 * Starts one informer. Transient answers (429 while a new CRD's storage
 * initialises, 5xx, connection errors) are retried for a bounded time; a missing
 * CRD or an RBAC denial is reported at once, with what to do about it.
 */
async function startWithRetry(
  informer: ResilientInformer<k8s.KubernetesObject>,
  logger: Logger,
  notFound = `Weir's CRDs are not installed in this cluster (${group}/${version} not found): apply crds/ or install the Helm chart`,
): Promise<void> {
  // Wall-clock time on purpose: this is start-up I/O, not release timing (which uses the injected clock).
  const deadline = Date.now() + 60_000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      await informer.start();
      return;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) {
        throw new WeirError('ApiUnavailable', notFound, { retriable: false, cause: err });
      }
      if (code === 401 || code === 403 || Date.now() + delay > deadline) {
        throw new WeirError(
          'ApiUnavailable',
          `Could not list the objects Weir watches: ${(err as Error).message}`,
          {
            retriable: code !== 401 && code !== 403,
            cause: err,
          },
        );
      }
      logger.info({ code, retryInMs: delay }, 'Listing failed; retrying');
      await new Promise<void>((resolve) => setTimeout(resolve, delay));
    }
  }
}
