import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { selectorLabel, services } from '../workloads/workloads.js';
import type { Router, Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';
import type * as k8s from '@kubernetes/client-node';

const proxyOnly =
  'a Service has no HTTP routing (the kubernetes provider only points the apex Service at the primary or the canary pods): use a mesh or Gateway API provider for it, or remove it';

/** The kubernetes provider routes nothing but the apex Service's selector. */
export const kubernetesServiceFields: ServiceFieldSupport = {
  honoured: [],
  instead: {
    hosts: proxyOnly,
    match: proxyOnly,
    rewrite: proxyOnly,
    retries: proxyOnly,
    headers: proxyOnly,
    corsPolicy: proxyOnly,
    timeout: proxyOnly,
  },
};

/** Why the kubernetes provider cannot route a Canary, or undefined when it can. */
export function kubernetesUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const fields = serviceFieldsUnsupported('kubernetes', canary, kubernetesServiceFields);
  if (fields) return fields;
  if (strategy === 'canary')
    return 'the kubernetes provider cannot split traffic by weight: use iterations (blue/green), or a mesh or Gateway API provider for stepWeight';
  if (strategy === 'abTesting')
    return 'the kubernetes provider cannot route by request headers: use a mesh or Gateway API provider for A/B testing';
  if (canary.spec.analysis.mirror)
    return 'the kubernetes provider cannot mirror traffic (a Service only selects pods): remove analysis.mirror or use a mesh or Gateway API provider';
  if (canary.spec.analysis.sessionAffinity)
    return 'the kubernetes provider cannot pin sessions by cookie: remove analysis.sessionAffinity or use a mesh or Gateway API provider';
  return undefined;
}

/**
 * No mesh: blue/green by pointing the apex Service at the primary or the canary
 * pods. Weights between 0 and 100 and request matching cannot be expressed.
 */
export class KubernetesRouter implements Router {
  readonly name = 'kubernetes';

  constructor(
    private readonly kube: KubeAccess,
    private readonly target: (canary: Canary) => k8s.V1Deployment | k8s.V1DaemonSet | undefined,
  ) {}

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return kubernetesUnsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const target = this.target(canary);
    const label = target && selectorLabel(target);
    if (!label) return;
    // The whole apex Service, always: a partial apply would drop the fields it leaves out.
    await this.kube.apply(
      services(canary, label, routes.canaryWeight >= 100 ? 'canary' : 'primary')[0]!,
    );
  }

  async getRoutes(): Promise<Routes | undefined> {
    return undefined;
  }

  async finalize(canary: Canary): Promise<void> {
    await this.setRoutes(canary, { canaryWeight: 100, matchToCanary: false });
  }
}
