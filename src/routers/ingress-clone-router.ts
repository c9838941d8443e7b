import * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import { CopyRouter, type NamespacedReader } from './copy-router.js';
import type { Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';

/**
 * What an ingress router that clones the user's Ingress (`spec.ingressRef`) as
 * `<ingress>-canary` is made of: pure pieces, so unit tests need no cluster.
 * ingress-nginx and Skipper both route this way.
 */
export interface IngressClone {
  name: string;
  unsupported(canary: Canary, strategy: Strategy): string | undefined;
  /** The clone's spec from the user's Ingress: only what reaches the apex Service. */
  spec(canary: Canary, source: k8s.V1Ingress): k8s.V1IngressSpec;
  /** The clone's annotations for a split. */
  annotations(canary: Canary, source: k8s.V1Ingress, routes: Routes): Record<string, string>;
  /** The split the clone's annotations hold, or undefined. */
  routesOf(canary: Canary, annotations: Record<string, string>): Routes | undefined;
}

/** `<ingress>-canary` for a split: owned by the Canary, labelled for it, never with the user's labels. */
export function cloneIngress(
  clone: IngressClone,
  canary: Canary,
  source: k8s.V1Ingress,
  routes: Routes,
): k8s.V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: `${source.metadata!.name}-canary`,
      namespace: canary.metadata.namespace!,
      // Not the user's labels: GitOps tools track objects by label and would prune the clone.
      labels: { [canaryLabel]: canary.metadata.name! },
      annotations: clone.annotations(canary, source, routes),
      ownerReferences: [ownerReference(canary)],
    },
    spec: clone.spec(canary, source),
  };
}

/** Why a provider that clones `spec.ingressRef` cannot use it, or undefined. */
export function ingressRefUnsupported(provider: string, canary: Canary): string | undefined {
  const ref = canary.spec.ingressRef;
  if (!ref)
    return `the ${provider} provider needs spec.ingressRef: the Ingress that routes to Service ${namesOf(canary).apex}, which Weir clones as <name>-canary`;
  if (ref.apiVersion !== 'networking.k8s.io/v1')
    return `spec.ingressRef.apiVersion ${ref.apiVersion} is not served: the ${provider} provider reads networking.k8s.io/v1 Ingresses`;
  return undefined;
}

/** What a provider that clones `spec.ingressRef` cannot do: the reasons it gives. */
export interface IngressCloneLimits {
  /** The routing fields of `spec.service` it honours, and advice for the others. */
  fields: ServiceFieldSupport;
  /** Why it cannot mirror traffic to the canary. */
  mirror: string;
  /** Why it cannot keep users on the canary. */
  sessionAffinity: string;
  /** Why it cannot route `analysis.match` to the canary, or undefined when it can. */
  match(analysis: CanaryAnalysis): string | undefined;
}

/** Why a provider that clones `spec.ingressRef` cannot route a Canary, or undefined when it can. */
export function ingressCloneUnsupported(
  provider: string,
  canary: Canary,
  strategy: Strategy,
  limits: IngressCloneLimits,
): string | undefined {
  const ref = ingressRefUnsupported(provider, canary);
  if (ref) return ref;
  const fields = serviceFieldsUnsupported(provider, canary, limits.fields);
  if (fields) return fields;
  const analysis = canary.spec.analysis;
  if (analysis.mirror) return limits.mirror;
  if (analysis.sessionAffinity) return limits.sessionAffinity;
  return strategy === 'abTesting' ? limits.match(analysis) : undefined;
}

/** Reads an Ingress; undefined when it does not exist. */
export type IngressReader = NamespacedReader<k8s.V1Ingress>;

/** An {@link IngressReader} on the API server. */
export function ingressReader(kubeConfig: k8s.KubeConfig): IngressReader {
  const api = kubeConfig.makeApiClient(k8s.NetworkingV1Api);
  return (namespace, name) =>
    api.readNamespacedIngress({ namespace, name }).catch((err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    });
}

/**
 * A router that keeps `<ingress>-canary` next to the user's Ingress
 * (`spec.ingressRef`), which it reads but never changes.
 */
export class IngressCloneRouter extends CopyRouter<k8s.V1Ingress> {
  constructor(kube: KubeAccess, read: IngressReader, clone: IngressClone) {
    super(kube, read, {
      name: clone.name,
      kind: 'Ingress',
      ref: 'ingressRef',
      reasons: { notFound: 'IngressNotFound', backendNotFound: 'IngressBackendNotFound' },
      copyName: (canary) => `${canary.spec.ingressRef!.name}-canary`,
      uncopyable(canary, source, at) {
        const spec = clone.spec(canary, source);
        if (spec.rules || spec.defaultBackend) return undefined;
        const { apex } = namesOf(canary);
        return `${at} has no backend on Service ${apex}: point the paths to release at Service ${apex} (port ${canary.spec.service.port})`;
      },
      build: (canary, source, routes) => cloneIngress(clone, canary, source, routes),
      routesOf(canary, copy) {
        const annotations = copy?.metadata?.annotations;
        return annotations ? clone.routesOf(canary, annotations) : undefined;
      },
      unsupported: (canary, strategy) => clone.unsupported(canary, strategy),
    });
  }
}
