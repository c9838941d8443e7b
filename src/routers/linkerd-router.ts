import * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../machine/steps.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/workloads.js';
import { readRoutingObject } from './read-routing-object.js';
import type { Router, Routes } from './router.js';

/**
 * The TrafficSplit version Weir writes: v1alpha2 (integer weights) is the one
 * Linkerd's SMI extension stores; v1alpha1's quantities (`500m`) would be
 * converted by the API server anyway.
 */
export const trafficSplitApiVersion = 'split.smi-spec.io/v1alpha2';

/** The TrafficSplit `<apex>` for a split: the apex Service divided between primary and canary. */
export function trafficSplit(canary: Canary, routes: Routes): Record<string, unknown> {
  const names = namesOf(canary);
  return {
    apiVersion: trafficSplitApiVersion,
    kind: 'TrafficSplit',
    metadata: {
      name: names.apex,
      namespace: canary.metadata.namespace,
      labels: { [canaryLabel]: canary.metadata.name },
      ownerReferences: [ownerReference(canary)],
    },
    spec: {
      service: names.apex,
      backends: [
        { service: names.apexPrimary, weight: 100 - routes.canaryWeight },
        { service: names.apexCanary, weight: routes.canaryWeight },
      ],
    },
  };
}

/**
 * Why an SMI TrafficSplit cannot run this Canary, or undefined. Linkerd's SMI
 * extension only splits by weight: it ignores `spec.matches`, and SMI has no
 * mirroring or cookie affinity at all.
 */
export function trafficSplitUnsupported(
  provider: string,
  canary: Canary,
  strategy: Strategy,
): string | undefined {
  const analysis = canary.spec.analysis;
  if (strategy === 'abTesting')
    return `the ${provider} provider routes with an SMI TrafficSplit, which can only split by weight: remove analysis.match (A/B testing) or use a provider that matches headers, such as gatewayapi or contour`;
  if (analysis.mirror)
    return `the ${provider} provider cannot mirror traffic (SMI TrafficSplit has no mirroring): remove analysis.mirror or use a provider that mirrors, such as contour or traefik`;
  if (analysis.sessionAffinity)
    return `the ${provider} provider cannot pin sessions to the canary (SMI TrafficSplit cannot route by cookie): remove analysis.sessionAffinity`;
  return undefined;
}

/** The parts of a TrafficSplit read back. */
export interface TrafficSplitObject {
  spec?: { backends?: { service?: string; weight?: number | string }[] };
}

/** The split a TrafficSplit holds, or undefined when it names neither backend. */
export function routesOfTrafficSplit(
  canary: Canary,
  split: TrafficSplitObject | undefined,
): Routes | undefined {
  const names = namesOf(canary);
  const backends = split?.spec?.backends ?? [];
  const weight = (service: string) => {
    const w = backends.find((b) => b.service === service)?.weight;
    return w === undefined ? undefined : Number(w);
  };
  const primary = weight(names.apexPrimary);
  const canaryWeight = weight(names.apexCanary);
  if (primary === undefined && canaryWeight === undefined) return undefined;
  const total = (primary ?? 0) + (canaryWeight ?? 0);
  return {
    canaryWeight: total > 0 ? Math.round(((canaryWeight ?? 0) * 100) / total) : 0,
    matchToCanary: false,
    mirror: false,
  };
}

/**
 * Routes traffic in Linkerd (or any mesh that reads SMI) with a TrafficSplit
 * `<apex>`. Registered as `linkerd` and as `smi`, Flagger's generic SMI name
 * (`smi:v1alpha2` resolves to `smi`).
 */
export class LinkerdRouter implements Router {
  private readonly objects: k8s.KubernetesObjectApi;

  constructor(
    private readonly kube: KubeAccess,
    kubeConfig: k8s.KubeConfig,
    readonly name: 'linkerd' | 'smi' = 'linkerd',
  ) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return trafficSplitUnsupported(this.name, canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    await this.kube.apply(trafficSplit(canary, routes) as k8s.KubernetesObject);
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    const split = await readRoutingObject<TrafficSplitObject>(
      this.objects,
      trafficSplitApiVersion,
      'TrafficSplit',
      canary,
    );
    return routesOfTrafficSplit(canary, split);
  }

  async finalize(canary: Canary): Promise<void> {
    // The TrafficSplit is Weir's own: send everything to the target until it is collected.
    await this.setRoutes(canary, { canaryWeight: 100, matchToCanary: false });
  }
}
