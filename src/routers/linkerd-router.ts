import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import { OwnedObjectRouter } from './owned-object-router.js';
import type { Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';
import { routesOfWeights } from './split-weights.js';

/**
 * The TrafficSplit version Weir writes: v1alpha2 (integer weights) is the one
 * Linkerd's SMI extension stores; v1alpha1's quantities (`500m`) would be
 * converted by the API server anyway.
 */
export const trafficSplitApiVersion = 'split.smi-spec.io/v1alpha2';

/**
 * The Service a TrafficSplit divides: the apex, or the one `spec.service.hosts`
 * names, as in Flagger, where the first host is the TrafficSplit's root service.
 */
export function rootService(canary: Canary): string {
  return canary.spec.service.hosts?.[0] ?? namesOf(canary).apex;
}

/** The TrafficSplit `<apex>` for a split: the root Service divided between primary and canary. */
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
      service: rootService(canary),
      backends: [
        { service: names.apexPrimary, weight: 100 - routes.canaryWeight },
        { service: names.apexCanary, weight: routes.canaryWeight },
      ],
    },
  };
}

const weightsOnly =
  'an SMI TrafficSplit only divides the traffic of a Service by weight; configure it in the mesh or in the ingress in front of it, and remove it';

/** An SMI TrafficSplit carries the root Service (spec.service.hosts) and weights, nothing else. */
export const trafficSplitServiceFields: ServiceFieldSupport = {
  honoured: ['hosts'],
  instead: {
    match: weightsOnly,
    rewrite: weightsOnly,
    headers: weightsOnly,
    corsPolicy: weightsOnly,
    retries:
      'an SMI TrafficSplit has no retries; with Linkerd, set retry.linkerd.io annotations on the apex Service through spec.service.apex.annotations',
    timeout:
      'an SMI TrafficSplit has no timeouts; with Linkerd, set timeout.linkerd.io annotations on the apex Service through spec.service.apex.annotations',
  },
};

const dnsLabel = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

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
  const fields = serviceFieldsUnsupported(provider, canary, trafficSplitServiceFields);
  if (fields) return fields;
  const hosts = canary.spec.service.hosts ?? [];
  if (hosts.length > 1)
    return `spec.service.hosts: the ${provider} provider's TrafficSplit divides one Service (the first host in Flagger, which ignored the others); keep one, or remove hosts to divide the apex Service ${namesOf(canary).apex}`;
  if (hosts.length === 1 && !dnsLabel.test(hosts[0]!))
    return `spec.service.hosts[0] "${hosts[0]}" is not a Service name: the ${provider} provider's TrafficSplit divides the Service it names; give the name of a Service in namespace ${canary.metadata.namespace}, or remove hosts to divide the apex Service`;
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
  return routesOfWeights(weight(names.apexPrimary), weight(names.apexCanary));
}

/**
 * Routes traffic in Linkerd (or any mesh that reads SMI) with a TrafficSplit
 * `<apex>`. Registered as `linkerd` and as `smi`, Flagger's generic SMI name
 * (`smi:v1alpha2` resolves to `smi`).
 */
export class LinkerdRouter extends OwnedObjectRouter<TrafficSplitObject> {
  constructor(kube: KubeAccess, kubeConfig: k8s.KubeConfig, name: 'linkerd' | 'smi' = 'linkerd') {
    super(kube, kubeConfig, {
      name,
      apiVersion: trafficSplitApiVersion,
      kind: 'TrafficSplit',
      build: trafficSplit,
      routesOf: routesOfTrafficSplit,
      unsupported: (canary, strategy) => trafficSplitUnsupported(name, canary, strategy),
    });
  }
}
