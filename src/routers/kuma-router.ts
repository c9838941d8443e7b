import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import { RoutingBlocked } from '../errors.js';
import type { KubeAccess } from '../kube/access.js';
import { canaryLabel, namesOf } from '../workloads/generated.js';
import { objectReader } from './object-reader.js';
import type { Router, Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';
import { routesOfWeights } from './split-weights.js';

export const trafficRouteApiVersion = 'kuma.io/v1alpha1';

/** The label naming the Canary's namespace on a TrafficRoute (a cluster-scoped object). */
export const canaryNamespaceLabel = 'weir.dev/canary-namespace';

/** Kuma's annotation on a Canary naming its mesh in Flagger. */
export const kumaMeshAnnotation = 'kuma.io/mesh';

/** How Kuma names a Kubernetes Service port inside the mesh: `<service>_<namespace>_svc_<port>`. */
export const kumaService = (service: string, namespace: string, port: number) =>
  `${service}_${namespace}_svc_${port}`;

/**
 * The TrafficRoute's name. TrafficRoutes are cluster-scoped, so the name carries
 * the namespace (a dot cannot occur in either part); it follows the Canary, not
 * the apex, so it can be found again once the Canary is gone.
 */
export const trafficRouteName = (namespace: string, name: string) => `${name}.${namespace}`;

/** The mesh: `spec.service.meshName`, else Flagger's `kuma.io/mesh` annotation, else `default`. */
export function meshOf(canary: Canary): string {
  return (
    canary.spec.service.meshName ?? canary.metadata.annotations?.[kumaMeshAnnotation] ?? 'default'
  );
}

/** The parts of a TrafficRoute read back. */
export interface TrafficRouteObject {
  mesh?: string;
  metadata?: k8s.V1ObjectMeta;
  spec?: {
    conf?: { split?: { weight?: number; destination?: Record<string, string> }[] };
  };
}

/**
 * The TrafficRoute for a split, the shape Flagger writes: calls from every
 * service of the mesh to the apex's Kuma service go to the primary's and the
 * canary's by weight. Both weights are always written.
 */
export function trafficRoute(canary: Canary, routes: Routes): Record<string, unknown> {
  const names = namesOf(canary);
  const namespace = canary.metadata.namespace!;
  const port = canary.spec.service.port;
  const service = (name: string) => ({ 'kuma.io/service': kumaService(name, namespace, port) });
  return {
    apiVersion: trafficRouteApiVersion,
    kind: 'TrafficRoute',
    mesh: meshOf(canary),
    metadata: {
      name: trafficRouteName(namespace, canary.metadata.name!),
      // A cluster-scoped object cannot be owned by a namespaced Canary: these labels
      // say whose it is, and the router deletes it when the Canary is gone.
      labels: { [canaryLabel]: canary.metadata.name!, [canaryNamespaceLabel]: namespace },
    },
    spec: {
      sources: [{ match: { 'kuma.io/service': '*' } }],
      destinations: [{ match: service(names.apex) }],
      conf: {
        split: [
          { weight: 100 - routes.canaryWeight, destination: service(names.apexPrimary) },
          { weight: routes.canaryWeight, destination: service(names.apexCanary) },
        ],
      },
    },
  };
}

/** The split a TrafficRoute holds, or undefined when it names neither Service. */
export function routesOfTrafficRoute(
  canary: Canary,
  route: TrafficRouteObject | undefined,
): Routes | undefined {
  const names = namesOf(canary);
  const namespace = canary.metadata.namespace!;
  const port = canary.spec.service.port;
  const split = route?.spec?.conf?.split ?? [];
  const weight = (name: string) =>
    split.find((s) => s.destination?.['kuma.io/service'] === kumaService(name, namespace, port))
      ?.weight;
  return routesOfWeights(weight(names.apexPrimary), weight(names.apexCanary));
}

const inKuma = (what: string) =>
  `a Kuma TrafficRoute splits by weight only; configure ${what} in a Kuma policy of your mesh, and remove it`;

/** A TrafficRoute carries the mesh and the weights. */
export const kumaServiceFields: ServiceFieldSupport = {
  honoured: ['meshName'],
  instead: {
    hosts: inKuma('hostnames'),
    match: inKuma('request matching'),
    rewrite: inKuma('rewrites'),
    headers: inKuma('header changes'),
    corsPolicy: inKuma('CORS'),
    retries: inKuma('retries (a Retry policy)'),
    timeout: inKuma('timeouts (a Timeout policy)'),
  },
};

/**
 * Why the kuma provider cannot route this Canary, or undefined. Weir writes the
 * TrafficRoute Flagger writes, a weighted split and nothing more.
 */
export function kumaUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const fields = serviceFieldsUnsupported('kuma', canary, kumaServiceFields);
  if (fields) return fields;
  const analysis = canary.spec.analysis;
  if (strategy === 'abTesting')
    return 'the kuma provider splits a TrafficRoute by weight only, as Flagger does: remove analysis.match (A/B testing), or use a provider that matches headers, such as gatewayapi or istio';
  if (analysis.mirror)
    return 'the kuma provider cannot mirror traffic (a TrafficRoute has no mirroring): remove analysis.mirror';
  if (analysis.sessionAffinity)
    return 'the kuma provider cannot pin sessions to the canary (a TrafficRoute splits by weight only): remove analysis.sessionAffinity';
  return undefined;
}

/** Reads a TrafficRoute by name; undefined when it does not exist. */
export type TrafficRouteReader = (name: string) => Promise<TrafficRouteObject | undefined>;

/** A {@link TrafficRouteReader} on the API server. */
export function trafficRouteReader(kubeConfig: k8s.KubeConfig): TrafficRouteReader {
  const read = objectReader<TrafficRouteObject>(kubeConfig, trafficRouteApiVersion, 'TrafficRoute');
  // Cluster-scoped: no namespace.
  return (name) => read(undefined, name);
}

/** Whether a TrafficRoute is the one Weir writes for the Canary `namespace/name`. */
const isOwn = (route: TrafficRouteObject, namespace: string, name: string) =>
  route.metadata?.labels?.[canaryLabel] === name &&
  route.metadata.labels[canaryNamespaceLabel] === namespace;

/**
 * Kuma: a TrafficRoute (kuma.io/v1alpha1) `<canary>.<namespace>` splitting the
 * apex's Kuma service between the primary's and the canary's, in the mesh of
 * `spec.service.meshName`. TrafficRoutes are cluster-scoped, so no owner
 * reference can tie one to its Canary: the router checks the object's labels
 * before its first write, and deletes it when the controller sees the Canary gone.
 */
export class KumaRouter implements Router {
  readonly name = 'kuma';
  /** The Canary generation whose TrafficRoute name was checked, per Canary. */
  private readonly checked = new Map<string, string>();

  constructor(
    private readonly kube: KubeAccess,
    private readonly read: TrafficRouteReader,
    private readonly logger?: Logger,
  ) {}

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return kumaUnsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const namespace = canary.metadata.namespace!;
    const name = canary.metadata.name!;
    const key = `${namespace}/${name}`;
    const input = `${canary.metadata.uid}/${canary.metadata.generation}`;
    if (this.checked.get(key) !== input) {
      const existing = await this.read(trafficRouteName(namespace, name));
      if (existing && !isOwn(existing, namespace, name))
        throw new RoutingBlocked(
          'NameConflict',
          `TrafficRoute ${trafficRouteName(namespace, name)} exists and is not Weir's for Canary ${key} (labels ${canaryLabel}, ${canaryNamespaceLabel}): rename or delete it`,
        );
      this.checked.set(key, input);
    }
    await this.kube.apply(trafficRoute(canary, routes) as k8s.KubernetesObject);
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    const route = await this.read(
      trafficRouteName(canary.metadata.namespace!, canary.metadata.name!),
    );
    return routesOfTrafficRoute(canary, route);
  }

  async finalize(canary: Canary): Promise<void> {
    // All traffic to the target until the Canary is gone and forget() deletes the route.
    await this.setRoutes(canary, { canaryWeight: 100, matchToCanary: false });
  }

  /**
   * The Canary is gone: its TrafficRoute goes too (garbage collection cannot take
   * it). Left alone, it would keep sending the apex's callers to Services that are
   * gone. Not awaited by the caller; a failure is logged. A Canary this process
   * never routed (deleted while no controller ran) leaves its TrafficRoute behind.
   */
  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    // Every router hears of every deleted Canary: only one this process routed is Kuma's.
    if (!this.checked.has(key)) return;
    this.checked.delete(key);
    void this.remove(namespace, name).catch((err: unknown) =>
      this.logger?.error(
        { err, trafficRoute: trafficRouteName(namespace, name) },
        'Could not delete the TrafficRoute of a deleted Canary',
      ),
    );
  }

  private async remove(namespace: string, name: string): Promise<void> {
    const routeName = trafficRouteName(namespace, name);
    const existing = await this.read(routeName);
    if (!existing || !isOwn(existing, namespace, name)) return;
    await this.kube.deleteObject({
      apiVersion: trafficRouteApiVersion,
      kind: 'TrafficRoute',
      // Cluster-scoped: the namespace is not part of its path.
      metadata: { name: routeName, namespace: '' },
    });
  }
}
