import * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { namesOf } from '../workloads/generated.js';
import type { Router, Routes } from './router.js';

/** What a router that routes with one object of its own, `<apex>`, is made of: pure pieces. */
export interface OwnedObject<T> {
  name: string;
  apiVersion: string;
  kind: string;
  /** The object for a split. */
  build(canary: Canary, routes: Routes): Record<string, unknown>;
  /** The split the object read back holds, or undefined. */
  routesOf(canary: Canary, object: T | undefined): Routes | undefined;
  unsupported(canary: Canary, strategy: Strategy): string | undefined;
}

/**
 * A router whose whole routing is one object Weir owns (`<apex>`, with an owner
 * reference to the Canary): SMI TrafficSplit, TraefikService, Contour HTTPProxy.
 * Each step applies the whole object; nothing is read but by getRoutes.
 */
export class OwnedObjectRouter<T> implements Router {
  readonly name: string;
  private readonly objects: k8s.KubernetesObjectApi;

  constructor(
    private readonly kube: KubeAccess,
    kubeConfig: k8s.KubeConfig,
    private readonly object: OwnedObject<T>,
  ) {
    this.name = object.name;
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return this.object.unsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    // The whole object: server-side apply drops any field of a shape Weir no longer writes.
    await this.kube.apply(this.object.build(canary, routes) as k8s.KubernetesObject);
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    const { apiVersion, kind } = this.object;
    const metadata = { name: namesOf(canary).apex, namespace: canary.metadata.namespace! };
    // Missing (not created yet, or collected with the Canary) is "no routes"; an outage is thrown.
    const found = await this.objects.read({ apiVersion, kind, metadata }).catch((err: unknown) => {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    });
    return this.object.routesOf(canary, found as T | undefined);
  }

  async finalize(canary: Canary): Promise<void> {
    // The object is Weir's own: send everything to the target until it is collected.
    await this.setRoutes(canary, { canaryWeight: 100, matchToCanary: false });
  }
}
