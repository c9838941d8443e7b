import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { selectorLabel, services } from '../workloads/workloads.js';
import type { Router, Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';
import type * as k8s from '@kubernetes/client-node';
import {
  partitionFor,
  partitionOf,
  partitionPatch,
  replicasOf,
  weightOfPartition,
} from '../workloads/statefulsets.js';

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
  if (canary.spec.targetRef?.kind === 'StatefulSet') return partitionUnsupported(canary, strategy);
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

const inPlace = 'a StatefulSet is released in place, a share of its pods at a time (ADR 0019)';

/** Why a StatefulSet cannot be released as declared, or undefined when it can. */
function partitionUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const analysis = canary.spec.analysis;
  if (strategy === 'abTesting')
    return `${inPlace}: no request can be routed to the canary by header or cookie; remove analysis.match`;
  if (strategy === 'blueGreen')
    return `${inPlace}: set analysis.stepWeight or stepWeights for the share of pods each step updates, instead of iterations`;
  if (analysis.mirror) return `${inPlace}: traffic cannot be mirrored; remove analysis.mirror`;
  if (analysis.sessionAffinity)
    return `${inPlace}: sessions cannot be pinned by cookie; remove analysis.sessionAffinity`;
  if (analysis.stepWeightPromotion)
    return `${inPlace}: promotion updates the remaining pods at once; remove analysis.stepWeightPromotion`;
  return undefined;
}

/** The workloads the kubernetes provider routes: the target, from the cache. */
export type Target = k8s.V1Deployment | k8s.V1DaemonSet | k8s.V1StatefulSet;

/**
 * No mesh: blue/green by pointing the apex Service at the primary or the canary
 * pods. Weights between 0 and 100 and request matching cannot be expressed.
 */
export class KubernetesRouter implements Router {
  readonly name = 'kubernetes';

  constructor(
    private readonly kube: KubeAccess,
    private readonly target: (canary: Canary) => Target | undefined,
  ) {}

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return kubernetesUnsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const target = this.target(canary);
    if (canary.spec.targetRef.kind === 'StatefulSet') {
      // The weight is the share of pods updated: the partition holds the others back.
      const sts = target as k8s.V1StatefulSet | undefined;
      if (!sts) return;
      // Written whatever the cache says: the effects decide when (the cache may lag).
      const partition = partitionFor(replicasOf(sts), routes.canaryWeight);
      await this.kube.patchWorkload(
        'StatefulSet',
        { namespace: canary.metadata.namespace!, name: sts.metadata!.name! },
        partitionPatch(partition),
      );
      return;
    }
    const label = target && selectorLabel(target);
    if (!label) return;
    // The whole apex Service, always: a partial apply would drop the fields it leaves out.
    await this.kube.apply(
      services(canary, label, routes.canaryWeight >= 100 ? 'canary' : 'primary')[0]!,
    );
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    if (canary.spec.targetRef.kind !== 'StatefulSet') return undefined;
    const sts = this.target(canary) as k8s.V1StatefulSet | undefined;
    if (!sts) return undefined;
    const canaryWeight = weightOfPartition(replicasOf(sts), partitionOf(sts));
    return { canaryWeight, matchToCanary: false };
  }

  /** Everything to the target: the apex Service selects it, or a StatefulSet's partition is lifted. */
  async finalize(canary: Canary): Promise<void> {
    await this.setRoutes(canary, { canaryWeight: 100, matchToCanary: false });
  }
}
