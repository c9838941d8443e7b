import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { Agent, type Dispatcher } from 'undici';
import { requestKind } from './request-kind.js';

/** Options for {@link controllerKubeConfig}. */
export interface ControllerKubeConfigOptions {
  /** Counts every request in `weir_kube_requests_total{verb,resource}` when given. */
  registry?: Registry;
  /**
   * Upper bound of one API request, body included (watches excepted: client-node's
   * Watch has its own inactivity timeout). A hung call fails instead of holding a
   * reconcile or a leader-election renewal forever.
   */
  requestTimeoutMs?: number;
  /** Sent as User-Agent on every request: the API server's audit log names the replica. */
  userAgent?: string;
  /**
   * Aborts the writes (every request but GET) in flight when it fires: a replica
   * that loses leadership cuts its pending writes off instead of letting them land
   * after the new leader's. Read when each request starts, so it can be replaced.
   */
  writeFence?: () => AbortSignal | undefined;
  /**
   * Asks the API server for objects' metadata only (PartialObjectMetadata), on lists
   * and watches alike: what a metadata-only informer talks through.
   */
  metadataOnly?: boolean;
}

/**
 * The Accept header of a metadata-only request: a list answers as
 * PartialObjectMetadataList; a watch's events, and a get, carry PartialObjectMetadata.
 */
export function metadataOnlyAccept(verb: string): string {
  const as = verb === 'list' ? 'PartialObjectMetadataList' : 'PartialObjectMetadata';
  return `application/json;as=${as};g=meta.k8s.io;v=v1`;
}

/** Default upper bound of one Kubernetes API request. */
export const defaultRequestTimeoutMs = 30_000;

type DispatcherFactory = (cluster: k8s.Cluster | null, options: object) => Dispatcher | undefined;

/**
 * The KubeConfig the controller talks through: a copy of `source` (which is left
 * alone) that shares connections, bounds every request in time and counts it.
 *
 * - client-node 2.x builds a new undici Agent for every request
 *   (`applySecurityAuthentication` → `createDispatcher`), so every API call would
 *   open a TLS connection with a fresh SecureContext: at 500 canaries that cost
 *   44 % of the controller's CPU in 1.x. This keeps one keep-alive Agent per
 *   server and distinct set of TLS options; new credentials (a rotated client
 *   certificate) get a new Agent. Proxied clusters keep the library's dispatchers.
 * - Every request except a watch gets an abort signal after `requestTimeoutMs`, and
 *   writes also the write fence's.
 * - Requests are counted by verb and resource, as the API server's audit log names them.
 */
export function controllerKubeConfig(
  source: k8s.KubeConfig,
  options: ControllerKubeConfigOptions = {},
): k8s.KubeConfig {
  const timeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const requests = options.registry ? requestCounter(options.registry) : undefined;

  class ControllerKubeConfig extends k8s.KubeConfig {
    override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
      const kind = requestKind(context.getHttpMethod(), context.getUrl());
      requests?.inc(kind as never);
      await super.applySecurityAuthentication(context);
      if (options.userAgent) context.setHeaderParam('User-Agent', options.userAgent);
      if (options.metadataOnly) context.setHeaderParam('Accept', metadataOnlyAccept(kind.verb));
      if (kind.verb === 'watch' || context.getSignal()) return;
      const fence = context.getHttpMethod() === 'GET' ? undefined : options.writeFence?.();
      const timeout = AbortSignal.timeout(timeoutMs);
      context.setSignal(fence ? AbortSignal.any([timeout, fence]) : timeout);
    }
    // client-node's own clients set User-Agent in a middleware that runs after
    // applySecurityAuthentication: the same client, with our User-Agent instead.
    override makeApiClient<T extends k8s.ApiType>(apiClientType: k8s.ApiConstructor<T>): T {
      if (!options.userAgent) return super.makeApiClient(apiClientType);
      const cluster = this.getCurrentCluster();
      if (!cluster) throw new Error('No active cluster!');
      return new apiClientType(
        k8s.createConfiguration({
          baseServer: new k8s.ServerConfiguration(cluster.server, {}),
          authMethods: { default: this },
          middleware: [k8s.setHeaderMiddleware('User-Agent', options.userAgent)],
        }),
      );
    }
  }
  const copy = new ControllerKubeConfig();
  copy.loadFromOptions({
    clusters: source.clusters,
    users: source.users,
    contexts: source.contexts,
    currentContext: source.currentContext,
  });
  shareDispatchers(copy);
  return copy;
}

/** Replaces client-node's per-request dispatcher with one shared keep-alive Agent per TLS identity. */
function shareDispatchers(kubeConfig: k8s.KubeConfig): void {
  const target = kubeConfig as unknown as { createDispatcher: DispatcherFactory };
  const original = target.createDispatcher.bind(kubeConfig);
  const agents = new Map<string, Dispatcher>();
  target.createDispatcher = (cluster, agentOptions) => {
    const options = kubeConfig.createDispatcherOptions(cluster, agentOptions);
    if (options.type !== 'agent' || !cluster) return original(cluster, agentOptions);
    const hash = createHash('sha256').update(cluster.server);
    for (const [name, value] of Object.entries(options.connect).sort(([a], [b]) =>
      a.localeCompare(b),
    ))
      hash.update(`\0${name}=`).update(Buffer.isBuffer(value) ? value : String(value));
    const id = hash.digest('hex');
    let agent = agents.get(id);
    if (!agent) {
      agent = new Agent({ connect: options.connect });
      agents.set(id, agent);
    }
    return agent;
  };
}

function requestCounter(registry: Registry): Counter<'verb' | 'resource'> {
  return (
    (registry.getSingleMetric('weir_kube_requests_total') as Counter<'verb' | 'resource'>) ??
    new Counter({
      name: 'weir_kube_requests_total',
      help: 'Kubernetes API requests sent, by verb and resource.',
      labelNames: ['verb', 'resource'],
      registers: [registry],
    })
  );
}
