import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';

/*
 * Knative Service targets (ADR 0020): Knative keeps every version as an immutable
 * Revision, so the primary is a Revision name, not a copy; the Service's own
 * `spec.traffic` splits requests between it and the newest Revision.
 */

/** A Knative Service (serving.knative.dev/v1), as far as Weir reads and writes it. */
export interface KnativeService extends k8s.KubernetesObject {
  spec?: {
    template?: k8s.V1PodTemplateSpec;
    traffic?: KnativeTrafficTarget[];
  };
  status?: {
    observedGeneration?: number;
    latestCreatedRevisionName?: string;
    latestReadyRevisionName?: string;
    traffic?: KnativeTrafficTarget[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** One entry of a Knative Service's `traffic`. */
export interface KnativeTrafficTarget {
  revisionName?: string;
  latestRevision?: boolean;
  percent?: number;
  tag?: string;
}

export const knativeApiVersion = 'serving.knative.dev/v1';
export const knativeResource = {
  group: 'serving.knative.dev',
  version: 'v1',
  plural: 'services',
} as const;

/** The annotation on the Knative Service naming the Revision that serves as the primary. */
export const primaryRevisionAnnotation = 'weir.dev/primary-revision';
/** Flagger's name for it: a Service Flagger released still carries it after a migration. */
const flaggerPrimaryRevision = 'flagger.app/primary-revision';

/** The Revision Weir (or Flagger before it) promoted, if any. */
export function primaryRevisionOf(svc: KnativeService): string | undefined {
  const a = svc.metadata?.annotations ?? {};
  return a[primaryRevisionAnnotation] ?? a[flaggerPrimaryRevision];
}

/** True when the Service is a Knative Service Weir can release, or why not. */
export function knativeUnsupported(svc: KnativeService): string | undefined {
  if (!svc.status?.latestCreatedRevisionName)
    return `Knative Service ${svc.metadata?.name} has no Revision yet (status.latestCreatedRevisionName is empty): Knative Serving has not reconciled it; is Knative Serving running?`;
  return undefined;
}

/**
 * What a Knative Service runs, from its status: the newest Revision (the release's
 * revision), the primary, whether the primary can take traffic (it is the newest
 * ready Revision, or Knative routes to it), and whether the newest Revision is ready.
 */
export function knativeView(svc: KnativeService): {
  revision: string;
  primaryRevision: string | undefined;
  primaryReady: boolean;
  canaryReady: boolean;
} {
  const s = svc.status ?? {};
  const revision = s.latestCreatedRevisionName ?? '';
  const primary = primaryRevisionOf(svc);
  const routed = (s.traffic ?? []).some((t) => t.revisionName === primary && primary);
  return {
    revision,
    primaryRevision: primary,
    primaryReady: primary !== undefined && (primary === s.latestReadyRevisionName || routed),
    canaryReady: revision !== '' && s.latestReadyRevisionName === revision,
  };
}

/**
 * The traffic for a canary weight: all of it to the primary at 0, otherwise the
 * weight to the newest Revision by name (never `latestRevision`, which Knative
 * resolves to the newest *ready* one: the Revision judged is the one named).
 */
export function knativeTraffic(
  primary: string,
  canary: string,
  weight: number,
): KnativeTrafficTarget[] {
  if (weight <= 0 || primary === canary) return [{ revisionName: primary, percent: 100 }];
  if (weight >= 100) return [{ revisionName: canary, percent: 100 }];
  return [
    { revisionName: primary, percent: 100 - weight },
    { revisionName: canary, percent: weight },
  ];
}

/**
 * The primary and the traffic a weight asks of this Service: the newest Revision
 * against the primary, which before the first promotion is the Revision Knative
 * serves (the newest ready one).
 */
export function knativeSplit(
  svc: KnativeService,
  weight: number,
): { primary: string; traffic: KnativeTrafficTarget[] } {
  const newest = svc.status?.latestCreatedRevisionName ?? '';
  const primary = primaryRevisionOf(svc) ?? svc.status?.latestReadyRevisionName ?? newest;
  return { primary, traffic: knativeTraffic(primary, newest, weight) };
}

/** The canary's share in a Service's `spec.traffic`: what a router reads back. */
export function knativeWeightOf(svc: KnativeService): number | undefined {
  const primary = primaryRevisionOf(svc);
  const traffic = svc.spec?.traffic;
  if (!traffic || !primary) return undefined;
  return traffic
    .filter((t) => t.revisionName !== primary)
    .reduce((sum, t) => sum + (t.percent ?? 0), 0);
}

/**
 * What Weir applies to the user's Knative Service (server-side apply, field manager
 * `weir`): the primary annotation and `spec.traffic`, nothing else. Every apply
 * carries both, since a field Weir applied before and leaves out would be removed.
 * Without a primary (revertOnDeletion), Knative's default: all to the latest.
 */
export function knativeApply(
  canary: Canary,
  name: string,
  split: { primary: string; traffic: KnativeTrafficTarget[] } | undefined,
): KnativeService {
  return {
    apiVersion: knativeApiVersion,
    kind: 'Service',
    metadata: {
      name,
      namespace: canary.metadata.namespace!,
      ...(split ? { annotations: { [primaryRevisionAnnotation]: split.primary } } : {}),
    },
    spec: { traffic: split ? split.traffic : [{ latestRevision: true, percent: 100 }] },
  };
}
