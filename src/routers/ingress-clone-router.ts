import * as k8s from '@kubernetes/client-node';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import { RoutingBlocked } from '../errors.js';
import type { KubeAccess } from '../kube/access.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import type { Router, Routes } from './router.js';

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

/** Reads an Ingress; undefined when it does not exist. */
export type IngressReader = (namespace: string, name: string) => Promise<k8s.V1Ingress | undefined>;

/** An {@link IngressReader} on the API server. */
export function ingressReader(kubeConfig: k8s.KubeConfig): IngressReader {
  const api = kubeConfig.makeApiClient(k8s.NetworkingV1Api);
  return (namespace, name) =>
    api.readNamespacedIngress({ namespace, name }).catch((err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    });
}

interface Remembered {
  /** What the copy was read for: a changed Canary reads again. */
  input: string;
  ingress: k8s.V1Ingress;
  /** Whether the routes last applied sent no traffic to the canary. */
  atRest: boolean;
}

/**
 * A router that keeps `<ingress>-canary` next to the user's Ingress
 * (`spec.ingressRef`), which it reads but never changes.
 */
export class IngressCloneRouter implements Router {
  readonly name: string;

  /**
   * The user's Ingress per Canary. It is read again whenever traffic leaves or
   * returns to the primary (a release starts moving, or ends), so the steps in
   * between read nothing, and a change to the Ingress is picked up by the next
   * release at the latest.
   */
  private readonly remembered = new Map<string, Remembered>();

  constructor(
    private readonly kube: KubeAccess,
    private readonly read: IngressReader,
    private readonly clone: IngressClone,
  ) {
    this.name = clone.name;
  }

  forget(namespace: string, name: string): void {
    this.remembered.delete(`${namespace}/${name}`);
  }

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return this.clone.unsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const input = `${canary.metadata.uid}/${canary.metadata.generation}`;
    const atRest = routes.canaryWeight === 0 && !routes.matchToCanary;
    const memo = this.remembered.get(key);
    const source =
      memo && memo.input === input && !atRest && !memo.atRest
        ? { ingress: memo.ingress }
        : await this.source(canary);
    if ('blocked' in source) throw source.blocked;
    await this.kube.apply(cloneIngress(this.clone, canary, source.ingress, routes));
    this.remembered.set(key, { input, ingress: source.ingress, atRest });
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    const ref = canary.spec.ingressRef;
    if (!ref) return undefined;
    const ingress = await this.read(canary.metadata.namespace!, `${ref.name}-canary`);
    const annotations = ingress?.metadata?.annotations;
    return annotations ? this.clone.routesOf(canary, annotations) : undefined;
  }

  async finalize(canary: Canary): Promise<void> {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const memo = this.remembered.get(key);
    this.remembered.delete(key);
    if (!canary.spec.ingressRef) return;
    const source = memo ? { ingress: memo.ingress } : await this.source(canary);
    // Without the user's Ingress (or with a name taken by someone else) there is nothing
    // to hand back: the clone goes with the Canary, and deletion must not wait for the user.
    if ('blocked' in source) return;
    await this.kube.apply(
      cloneIngress(this.clone, canary, source.ingress, { canaryWeight: 100, matchToCanary: false }),
    );
  }

  /** Reads the user's Ingress and checks that the clone can be made without harm. */
  private async source(
    canary: Canary,
  ): Promise<{ ingress: k8s.V1Ingress } | { blocked: RoutingBlocked }> {
    const namespace = canary.metadata.namespace!;
    const name = canary.spec.ingressRef!.name;
    const { apex } = namesOf(canary);
    const ingress = await this.read(namespace, name);
    if (!ingress)
      return {
        blocked: new RoutingBlocked(
          'IngressNotFound',
          `Ingress ${namespace}/${name} (spec.ingressRef) not found: create it, or name the Ingress that routes to Service ${apex}`,
        ),
      };
    const spec = this.clone.spec(canary, ingress);
    if (!spec.rules && !spec.defaultBackend)
      return {
        blocked: new RoutingBlocked(
          'IngressBackendNotFound',
          `Ingress ${namespace}/${name} has no backend on Service ${apex}: point the paths to release at Service ${apex} (port ${canary.spec.service.port})`,
        ),
      };
    const existing = await this.read(namespace, `${name}-canary`);
    if (existing && !existing.metadata?.ownerReferences?.some((o) => o.uid === canary.metadata.uid))
      return {
        blocked: new RoutingBlocked(
          'NameConflict',
          `Ingress ${namespace}/${name}-canary exists and is not owned by this Canary: rename or delete it`,
        ),
      };
    return { ingress };
  }
}
