import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import {
  knativeApply,
  knativeSplit,
  knativeTraffic,
  knativeWeightOf,
  type KnativeService,
} from '../workloads/knative.js';
import type { Router, Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';

const byRevision =
  'a Knative Service splits traffic between Revisions by percentage only (spec.traffic): configure it on the Knative Service or its ingress, or remove it';

/** The knative provider routes by `spec.traffic` percentages only. */
export const knativeServiceFields: ServiceFieldSupport = {
  honoured: [],
  instead: {
    hosts: byRevision,
    match: byRevision,
    rewrite: byRevision,
    retries: byRevision,
    headers: byRevision,
    corsPolicy: byRevision,
    timeout: byRevision,
  },
};

/** Why the knative provider cannot route a Canary, or undefined when it can. */
export function knativeUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const fields = serviceFieldsUnsupported('knative', canary, knativeServiceFields);
  if (fields) return fields;
  if (canary.spec.targetRef?.kind !== 'Service')
    return `the knative provider splits a Knative Service's traffic between its Revisions: its targetRef must be a Knative Service (apiVersion serving.knative.dev/v1, kind Service), not a ${canary.spec.targetRef?.kind}`;
  if (strategy === 'abTesting')
    return 'Knative routes by percentage, not by request headers or cookies: remove analysis.match, or put a mesh in front of the Knative Service';
  const analysis = canary.spec.analysis;
  if (analysis.mirror)
    return 'Knative cannot mirror traffic between Revisions: remove analysis.mirror';
  if (analysis.sessionAffinity)
    return 'Knative cannot pin sessions to a Revision by cookie: remove analysis.sessionAffinity';
  return undefined;
}

/**
 * A Knative Service's own traffic split (ADR 0020): `spec.traffic` between the
 * primary Revision (named by the `weir.dev/primary-revision` annotation) and the
 * newest Revision, both by name. Written by server-side apply under Weir's field
 * manager: the annotation and `spec.traffic` are Weir's, the rest is the user's.
 */
export class KnativeRouter implements Router {
  readonly name = 'knative';

  constructor(
    private readonly kube: KubeAccess,
    private readonly target: (canary: Canary) => KnativeService | undefined,
  ) {}

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return knativeUnsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const svc = this.target(canary);
    if (!svc?.status?.latestCreatedRevisionName) return;
    await this.kube.apply(
      knativeApply(canary, svc.metadata!.name!, knativeSplit(svc, routes.canaryWeight)),
    );
  }

  /** Makes `revision` the primary, with all the traffic (what a promotion is for Knative). */
  async promote(canary: Canary, revision: string): Promise<void> {
    const svc = this.target(canary);
    if (!svc) return;
    const traffic = knativeTraffic(revision, revision, 0);
    await this.kube.apply(
      knativeApply(canary, svc.metadata!.name!, { primary: revision, traffic }),
    );
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    const svc = this.target(canary);
    const weight = svc && knativeWeightOf(svc);
    return weight === undefined ? undefined : { canaryWeight: weight, matchToCanary: false };
  }

  /** Gives the Service back to Knative's default: all traffic to its latest Revision, no primary. */
  async finalize(canary: Canary): Promise<void> {
    const svc = this.target(canary);
    if (svc) await this.kube.apply(knativeApply(canary, svc.metadata!.name!, undefined));
  }
}
