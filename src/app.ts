import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { egressPolicy } from './util/egress.js';
import { registerLiveHeap } from './util/live-heap.js';
import type { ControllerConfig } from './config.js';
import type { WorkQueue } from './controller/work-queue.js';
import { WeirError } from './errors.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { createController } from './controller/controller.js';
import type { CheckRunner } from './contracts/checks.js';
import { realClock, type Clock } from './util/clock.js';
import { hostname } from 'node:os';
import { LeaderElector, type Role } from './kube/leader-election.js';
import { controllerKubeConfig } from './kube/kube-config.js';
import type { WebhookClientOptions } from './webhooks/webhook-client.js';
import type { DeliveryQueue } from './notifications/delivery-queue.js';

/** Everything the controller needs from outside, injected so tests control it. */
export interface AppDependencies {
  config: ControllerConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  /** Private metrics registry; a fresh one by default. */
  registry?: Registry;
  version?: string;
  /** Time source; the wall clock by default. Tests inject a ManualClock. */
  clock?: Clock;
  /** Analysis checks (metrics, webhooks); see contracts/checks.ts. */
  checks?: CheckRunner;
  /** Retry backoff of webhooks and notifications; tests shorten it. */
  webhookBackoff?: WebhookClientOptions;
  /** This replica's name in leader election (default `<hostname>_<pid>`). */
  identity?: string;
  /** Called when this replica loses leadership (main.ts exits so Kubernetes restarts it). */
  onLostLeadership?: () => void;
}

/** A built controller that can be started and stopped in-process. */
export interface App {
  start(): Promise<void>;
  /** Stops watches and servers; safe to call more than once. */
  stop(): Promise<void>;
  /** The controller's work queue (tests wait on it to go idle). */
  readonly queue: WorkQueue;
  /** Notifications waiting or in flight (tests wait on it). */
  readonly deliveries: DeliveryQueue;
  /** Addresses actually bound (useful when port 0 was configured). */
  readonly metricsAddress?: HttpServer['address'];
  readonly probeAddress?: HttpServer['address'];
  readonly ready: boolean;
  /** `leader`, `standby`, or `unknown` before the first election round; `leader` without election. */
  readonly role: Role;
}

/**
 * Builds the controller: connects to the API server, fills the informer caches
 * the reconciler reads from, and serves `/metrics`, `/healthz` and `/readyz`
 * (ready only once every cache has synced).
 */
export function createApp(deps: AppDependencies): App {
  const { config, logger } = deps;
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'weir_' });
  const liveHeap = registerLiveHeap(registry);
  const identity = deps.identity ?? `${hostname()}_${process.pid}`;
  const userAgent = `weir-controller/${deps.version ?? 'dev'} (${identity})`;
  // Cut off when this replica stops leading: its writes still in flight are aborted.
  let leadership = new AbortController();
  // Shared connections, a timeout on every request, and a count of them (weir_kube_requests_total).
  const kubeConfig = controllerKubeConfig(deps.kubeConfig, {
    registry,
    userAgent,
    writeFence: () => leadership.signal,
  });
  new Gauge({
    name: 'weir_build_info',
    help: 'Weir build information; the value is always 1.',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version: deps.version ?? 'dev' }, 1);

  const clock = deps.clock ?? realClock;
  // Before the controller it starts and stops; both only refer to each other when called.
  const elector = config.leaderElection
    ? new LeaderElector({
        // Lease calls are bounded well inside the renew deadline, and never fenced.
        kubeConfig: controllerKubeConfig(deps.kubeConfig, {
          registry,
          userAgent,
          requestTimeoutMs: 5_000,
        }),
        namespace: config.leaderElection.namespace,
        name: config.leaderElection.name,
        identity,
        clock,
        logger,
        onStartedLeading: () => {
          leadership = new AbortController();
          controller.startWorkers();
        },
        onStoppedLeading: () => {
          leadership.abort();
          void controller.stopWorkers().then(() => deps.onLostLeadership?.());
        },
      })
    : undefined;
  const controller = createController({
    kubeConfig,
    logger,
    registry,
    clock,
    defaultProvider: config.provider,
    concurrency: config.concurrency,
    crossNamespaceRefs: config.crossNamespaceRefs,
    knative: config.knative,
    statefulSets: config.statefulSets,
    // With leader election only the leader writes; the access layer refuses the rest.
    mayWrite: () => !elector || elector.role === 'leader',
    outbound: {
      egress: egressPolicy(config.egress),
      maxMetricsResponseBytes: config.maxMetricsResponseBytes,
    },
    metricsPolicy: {
      allowInlineQueries: config.allowInlineQueries,
      allowMetricsServerHeaders: config.allowMetricsServerHeaders,
    },
    ...(config.alertProvider ? { defaultAlertProvider: config.alertProvider } : {}),
    ...(deps.webhookBackoff ? { webhookBackoff: deps.webhookBackoff } : {}),
    ...(config.metricsServer ? { metricsServer: config.metricsServer } : {}),
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
    ...(config.labelSelector ? { labelSelector: config.labelSelector } : {}),
    ...(deps.checks ? { checks: deps.checks } : {}),
  });

  const servers: HttpServer[] = [];
  let metricsServer: HttpServer | undefined;
  let probeServer: HttpServer | undefined;
  let stopped = false;

  const app: App = {
    queue: controller.queue,
    deliveries: controller.deliveries,
    get metricsAddress() {
      return metricsServer?.address;
    },
    get probeAddress() {
      return probeServer?.address;
    },
    get role(): Role {
      return elector ? elector.role : 'leader';
    },
    get ready() {
      // Ready once the caches hold the cluster's state and this replica knows its role.
      return !stopped && controller.synced && app.role !== 'unknown';
    },
    async start() {
      metricsServer = await startHttpServer(config.metricsAddress, {
        '/metrics': async () => ({
          status: 200,
          type: registry.contentType,
          body: await registry.metrics(),
        }),
      });
      servers.push(metricsServer);
      probeServer = await startHttpServer(config.probeAddress, {
        '/healthz': async () => ({ status: 200, type: 'text/plain', body: 'ok\n' }),
        '/readyz': async () =>
          app.ready
            ? { status: 200, type: 'text/plain', body: 'ok\n' }
            : {
                status: 503,
                type: 'text/plain',
                body: stopped
                  ? 'stopping\n'
                  : !controller.synced
                    ? 'informer caches not synced\n'
                    : 'leader election: role not known yet\n',
              },
      });
      servers.push(probeServer);
      logger.info(
        { metrics: metricsServer.address, probes: probeServer.address },
        'Serving metrics and health probes',
      );

      const server = kubeConfig.getCurrentCluster()?.server ?? 'in-cluster';
      let version: k8s.VersionInfo;
      try {
        version = await kubeConfig.makeApiClient(k8s.VersionApi).getCode();
      } catch (err) {
        throw new WeirError(
          'ApiUnavailable',
          `Cannot reach the Kubernetes API server at ${server}: ${(err as Error).message}`,
          {
            retriable: true,
            cause: err,
          },
        );
      }
      logger.info(
        { server, kubernetesVersion: version.gitVersion },
        'Connected to the Kubernetes API server',
      );
      await controller.start();
      if (elector) {
        logger.info(
          { namespace: config.watchNamespace ?? 'all', lease: config.leaderElection },
          'Informer caches synced; electing a leader',
        );
        elector.start();
      } else {
        controller.startWorkers();
        logger.info(
          { namespace: config.watchNamespace ?? 'all', labelSelector: config.labelSelector },
          'Informer caches synced; reconciling',
        );
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await controller.stop();
      // Released only after in-flight work has finished, so the next leader starts clean.
      await elector?.stop();
      await Promise.allSettled(servers.map((s) => s.close()));
      liveHeap.stop();
      logger.info('Stopped');
    },
  };
  return app;
}
