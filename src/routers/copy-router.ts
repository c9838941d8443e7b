import type * as k8s from '@kubernetes/client-node';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import { RoutingBlocked } from '../errors.js';
import type { KubeAccess } from '../kube/access.js';
import { namesOf } from '../workloads/generated.js';
import type { Router, Routes } from './router.js';

/** Reads a namespaced object; undefined when it does not exist. */
export type NamespacedReader<T> = (namespace: string, name: string) => Promise<T | undefined>;

/**
 * What a router that copies the user's routing object (named by a `spec.*Ref`)
 * into one of its own is made of: pure pieces, so unit tests need no cluster.
 * The nginx and skipper routers copy an Ingress, the apisix router an ApisixRoute.
 */
export interface UserObjectCopy<T extends { metadata?: k8s.V1ObjectMeta }> {
  name: string;
  /** The user's object's kind, as messages name it. */
  kind: string;
  /** The Canary field that names the user's object. */
  ref: 'ingressRef' | 'routeRef';
  /** Why routing is blocked while the user's object is missing, or reaches no apex. */
  reasons: { notFound: string; backendNotFound: string };
  /** The name of Weir's copy. */
  copyName(canary: Canary): string;
  /** Why the user's object `at` (`<kind> <namespace>/<name>`) cannot be split, or undefined. */
  uncopyable(canary: Canary, source: T, at: string): string | undefined;
  /** Weir's copy for a split. */
  build(canary: Canary, source: T, routes: Routes): k8s.KubernetesObject;
  /** The split Weir's copy read back holds, or undefined. */
  routesOf(canary: Canary, copy: T | undefined): Routes | undefined;
  unsupported(canary: Canary, strategy: Strategy): string | undefined;
}

interface Remembered<T> {
  /** What the copy was read for: a changed Canary reads again. */
  input: string;
  source: T;
  /** Whether the routes last applied sent no traffic to the canary. */
  atRest: boolean;
}

/**
 * A router that keeps its own copy of the user's routing object next to it,
 * owned by the Canary, and reads the user's object but never changes it.
 */
export class CopyRouter<T extends { metadata?: k8s.V1ObjectMeta }> implements Router {
  readonly name: string;

  /**
   * The user's object per Canary. It is read again whenever traffic leaves or
   * returns to the primary (a release starts moving, or ends), so the steps in
   * between read nothing, and a change to the object is picked up by the next
   * release at the latest.
   */
  private readonly remembered = new Map<string, Remembered<T>>();

  constructor(
    private readonly kube: KubeAccess,
    private readonly read: NamespacedReader<T>,
    private readonly copy: UserObjectCopy<T>,
  ) {
    this.name = copy.name;
  }

  forget(namespace: string, name: string): void {
    this.remembered.delete(`${namespace}/${name}`);
  }

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return this.copy.unsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const input = `${canary.metadata.uid}/${canary.metadata.generation}`;
    const atRest = routes.canaryWeight === 0 && !routes.matchToCanary;
    const memo = this.remembered.get(key);
    const source =
      memo && memo.input === input && !atRest && !memo.atRest
        ? { source: memo.source }
        : await this.source(canary);
    if ('blocked' in source) throw source.blocked;
    await this.kube.apply(this.copy.build(canary, source.source, routes));
    this.remembered.set(key, { input, source: source.source, atRest });
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    if (!canary.spec[this.copy.ref]) return undefined;
    const copy = await this.read(canary.metadata.namespace!, this.copy.copyName(canary));
    return this.copy.routesOf(canary, copy);
  }

  async finalize(canary: Canary): Promise<void> {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const memo = this.remembered.get(key);
    this.remembered.delete(key);
    if (!canary.spec[this.copy.ref]) return;
    const source = memo ? { source: memo.source } : await this.source(canary);
    // Without the user's object (or with a name taken by someone else) there is nothing
    // to hand back: the copy goes with the Canary, and deletion must not wait for the user.
    if ('blocked' in source) return;
    await this.kube.apply(
      this.copy.build(canary, source.source, { canaryWeight: 100, matchToCanary: false }),
    );
  }

  /** Reads the user's object and checks that the copy can be made without harm. */
  private async source(canary: Canary): Promise<{ source: T } | { blocked: RoutingBlocked }> {
    const { kind, ref, reasons } = this.copy;
    const namespace = canary.metadata.namespace!;
    const name = canary.spec[ref]!.name;
    const source = await this.read(namespace, name);
    if (!source)
      return {
        blocked: new RoutingBlocked(
          reasons.notFound,
          `${kind} ${namespace}/${name} (spec.${ref}) not found: create it, or name the ${kind} that routes to Service ${namesOf(canary).apex}`,
        ),
      };
    const uncopyable = this.copy.uncopyable(canary, source, `${kind} ${namespace}/${name}`);
    if (uncopyable) return { blocked: new RoutingBlocked(reasons.backendNotFound, uncopyable) };
    const copyName = this.copy.copyName(canary);
    const existing = await this.read(namespace, copyName);
    if (existing && !existing.metadata?.ownerReferences?.some((o) => o.uid === canary.metadata.uid))
      return {
        blocked: new RoutingBlocked(
          'NameConflict',
          `${kind} ${namespace}/${copyName} exists and is not owned by this Canary: rename or delete it`,
        ),
      };
    return { source };
  }
}
