import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ControllerConfig } from './config.js';
import { WeirError } from './errors.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { createInformer, type ResilientInformer } from './kube/informer.js';

/** Everything the controller needs from outside, injected so tests control it. */
export interface AppDependencies {
  config: ControllerConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  /** Private metrics registry; a fresh one by default. */
  registry?: Registry;
  version?: string;
}

/** A built controller that can be started and stopped in-process. */
export interface App {
  start(): Promise<void>;
  /** Stops watches and servers; safe to call more than once. */
  stop(): Promise<void>;
  /** Addresses actually bound (useful when port 0 was configured). */
  readonly metricsAddress?: HttpServer['address'];
  readonly probeAddress?: HttpServer['address'];
  readonly ready: boolean;
}

/**
 * Builds the controller: connects to the API server, fills the informer caches
 * the reconciler reads from, and serves `/metrics`, `/healthz` and `/readyz`
 * (ready only once every cache has synced).
 */
export function createApp(deps: AppDependencies): App {
  const { config, kubeConfig, logger } = deps;
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'weir_' });
  new Gauge({
    name: 'weir_build_info',
    help: 'Weir build information; the value is always 1.',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version: deps.version ?? 'dev' }, 1);

  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const ns = config.watchNamespace;
  const deployments: ResilientInformer<k8s.V1Deployment> = createInformer({
    kubeConfig,
    logger,
    path: ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments',
    list: () =>
      ns ? apps.listNamespacedDeployment({ namespace: ns }) : apps.listDeploymentForAllNamespaces(),
  });
  const informers = [deployments];
  new Gauge({
    name: 'weir_informer_cached_objects',
    help: 'Objects held in each informer cache, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.set({ kind: 'Deployment' }, deployments.cache.list().length);
    },
  });
  const servers: HttpServer[] = [];
  let metricsServer: HttpServer | undefined;
  let probeServer: HttpServer | undefined;
  let stopped = false;

  const app: App = {
    get metricsAddress() {
      return metricsServer?.address;
    },
    get probeAddress() {
      return probeServer?.address;
    },
    get ready() {
      return !stopped && informers.every((i) => i.synced);
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
            : { status: 503, type: 'text/plain', body: 'informer caches not synced\n' },
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
      await Promise.all(informers.map((i) => i.start()));
      logger.info(
        { deployments: deployments.cache.list().length, namespace: ns ?? 'all' },
        'Informer caches synced',
      );
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(informers.map((i) => i.stop()));
      await Promise.allSettled(servers.map((s) => s.close()));
      logger.info('Stopped');
    },
  };
  return app;
}
