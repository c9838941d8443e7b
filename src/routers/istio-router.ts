import * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import { RoutingBlocked } from '../errors.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { canaryLabel, namesOf } from '../workloads/generated.js';
import {
  destinationRules,
  istioApiVersion,
  istioUnsupported,
  originalSpecAnnotation,
  routesOf,
  virtualService,
  type Adoption,
  type IstioObject,
} from './istio-objects.js';
import type { Router, Routes } from './router.js';

/** What the one read of a Canary's Istio objects found, valid for one uid and generation. */
interface Inspection {
  uid: string;
  generation: number;
  adoption?: Adoption;
}

type ReadObject = k8s.KubernetesObject & { spec?: Record<string, unknown> };

/**
 * Routes traffic with an Istio VirtualService `<apex>` (weights, A/B matches,
 * mirroring, cookie affinity) and DestinationRules `<apex>-primary` and
 * `<apex>-canary`, as Flagger does.
 *
 * The existing objects are read once per Canary generation (and after a
 * restart), not on every step: a step is one apply of the VirtualService. A
 * VirtualService of someone else's is never overwritten, unless the Canary has
 * `revertOnDeletion`: then Weir adopts it, keeps its original spec in an
 * annotation, and gives it back as it was when the Canary is deleted.
 */
export class IstioRouter implements Router {
  readonly name = 'istio';

  private readonly objects: k8s.KubernetesObjectApi;
  private readonly inspected = new Map<string, Inspection>();

  constructor(
    private readonly kube: KubeAccess,
    kubeConfig: k8s.KubeConfig,
  ) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  forget(namespace: string, name: string): void {
    this.inspected.delete(`${namespace}/${name}`);
  }

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return istioUnsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const { adoption } = await this.inspect(canary);
    await this.apply(virtualService(canary, routes, adoption));
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    return routesOf(canary, await this.read(canary, 'VirtualService', namesOf(canary).apex));
  }

  async finalize(canary: Canary): Promise<void> {
    this.inspected.delete(keyOf(canary));
    const vs = await this.read(canary, 'VirtualService', namesOf(canary).apex);
    if (!vs) return;
    if (adoptedBy(vs, canary)) {
      await this.kube.apply(restored(canary, vs));
      return;
    }
    // Someone else's (never adopted): not Weir's to change.
    if (!ownedBy(vs, canary)) return;
    await this.apply(virtualService(canary, { canaryWeight: 100, matchToCanary: false }));
  }

  /**
   * Reads the VirtualService and DestinationRules once per uid and generation,
   * decides whether Weir may write them (or adopts the VirtualService), and
   * applies the DestinationRules, which change only with the spec.
   */
  private async inspect(canary: Canary): Promise<Inspection> {
    const key = keyOf(canary);
    const uid = canary.metadata.uid!;
    const generation = canary.metadata.generation ?? 0;
    const hit = this.inspected.get(key);
    if (hit?.uid === uid && hit.generation === generation) return hit;

    const names = namesOf(canary);
    const vs = await this.read(canary, 'VirtualService', names.apex);
    const adoption = vs ? adoptionOf(vs, canary) : undefined;
    const rules = destinationRules(canary);
    for (const rule of rules) {
      const existing = await this.read(canary, 'DestinationRule', rule.metadata.name);
      if (existing && !ownedBy(existing, canary))
        throw new RoutingBlocked(
          'RouteConflict',
          `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} exists and is not owned by Canary ${canary.metadata.name}: Weir does not overwrite it; delete it or give the Canary another apex name (spec.service.name)`,
        );
    }
    for (const rule of rules) await this.apply(rule);
    // A blocked Canary is not remembered: the next attempt reads again, and sees a fix.
    const inspection: Inspection = { uid, generation, ...(adoption ? { adoption } : {}) };
    this.inspected.set(key, inspection);
    return inspection;
  }

  /**
   * Applies an Istio object. The pass-through fields of spec.service (match,
   * headers, corsPolicy, trafficPolicy ...) are validated only by Istio's schema:
   * an object the API server rejects blocks the Canary with the server's reason.
   */
  private async apply(obj: IstioObject): Promise<void> {
    try {
      await this.kube.apply(obj);
    } catch (err) {
      if ((err as { code?: number }).code !== 422) throw err;
      throw new RoutingBlocked(
        'InvalidRoute',
        `The API server rejected ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${rejection(err)}. Check the Istio fields of spec.service (match, rewrite, retries, headers, corsPolicy, trafficPolicy)`,
      );
    }
  }

  private async read(canary: Canary, kind: string, name: string): Promise<ReadObject | undefined> {
    return (await this.objects
      .read({
        apiVersion: istioApiVersion,
        kind,
        metadata: { name, namespace: canary.metadata.namespace! },
      })
      .catch((err: { code?: number }) => {
        if (err.code === 404) return undefined;
        throw err;
      })) as ReadObject | undefined;
  }
}

/** The API server's message in a rejected request. */
function rejection(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
    if (status?.message) return status.message;
  } catch {
    // Not a Status object: fall back to the error's own message.
  }
  return (err as Error).message;
}

const keyOf = (canary: Canary) => `${canary.metadata.namespace}/${canary.metadata.name}`;

function ownedBy(obj: k8s.KubernetesObject, canary: Canary): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((o) => o.uid === canary.metadata.uid);
}

/** True when Weir adopted this VirtualService for this Canary (and still holds its original). */
function adoptedBy(vs: k8s.KubernetesObject, canary: Canary): boolean {
  return (
    vs.metadata?.labels?.[canaryLabel] === canary.metadata.name &&
    vs.metadata?.annotations?.[originalSpecAnnotation] !== undefined
  );
}

/**
 * Whether Weir may write an existing VirtualService: undefined when Weir generated
 * it, the adoption when Weir adopted it (now or before), RoutingBlocked otherwise.
 */
function adoptionOf(vs: ReadObject, canary: Canary): Adoption | undefined {
  if (ownedBy(vs, canary)) return undefined;
  if (adoptedBy(vs, canary))
    return { originalSpec: vs.metadata!.annotations![originalSpecAnnotation]! };
  const where = `VirtualService ${vs.metadata?.namespace}/${vs.metadata?.name}`;
  const controller = (vs.metadata?.ownerReferences ?? []).find((o) => o.controller);
  const label = vs.metadata?.labels?.[canaryLabel];
  const otherCanary = label !== canary.metadata.name ? label : undefined;
  if (controller || otherCanary) {
    const owner = controller ? `${controller.kind} ${controller.name}` : `Canary ${otherCanary}`;
    throw new RoutingBlocked(
      'RouteConflict',
      `${where} is managed by ${owner}, not by Canary ${canary.metadata.name}: Weir does not take it over; give the Canary another apex name (spec.service.name)`,
    );
  }
  if (!canary.spec.revertOnDeletion)
    throw new RoutingBlocked(
      'RouteConflict',
      `${where} exists and was not created by Canary ${canary.metadata.name}: Weir does not overwrite it. Delete it, give the Canary another apex name (spec.service.name), or set spec.revertOnDeletion: true to let Weir take it over and restore it when the Canary is deleted`,
    );
  return { originalSpec: JSON.stringify(vs.spec ?? {}) };
}

/**
 * The user's VirtualService as it was. Applied with Weir's field manager, it sets
 * every field of the original spec, and the fields Weir applied before that the
 * original lacks (its label, its annotation, gateways the user had not set ...)
 * are dropped by server-side apply, since Weir no longer applies them.
 */
function restored(canary: Canary, vs: ReadObject): k8s.KubernetesObject {
  const text = vs.metadata!.annotations![originalSpecAnnotation]!;
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `VirtualService ${vs.metadata?.namespace}/${vs.metadata?.name}: annotation ${originalSpecAnnotation} is not valid JSON, so its original spec cannot be restored; fix or remove the annotation`,
      { cause: err },
    );
  }
  return {
    apiVersion: istioApiVersion,
    kind: 'VirtualService',
    metadata: { name: namesOf(canary).apex, namespace: canary.metadata.namespace! },
    spec,
  } as k8s.KubernetesObject;
}
