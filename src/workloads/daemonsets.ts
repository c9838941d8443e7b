import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import type { TrackedConfigs } from './configs.js';
import { primaryParts } from './workloads.js';

/**
 * The node selector that parks a DaemonSet: no node carries this label, so the
 * DaemonSet controller schedules no pod. Weir's name for Flagger's
 * `flagger.app/scale-to-zero` (ADR 0018).
 */
export const parkingNodeSelector = { key: 'weir.dev/scale-to-zero', value: 'true' } as const;

/**
 * Flagger's parking key: a DaemonSet Flagger left parked still carries it after a
 * migration. Weir reads it as parked, never copies it, and removes it when it un-parks.
 */
const flaggerParkingKey = 'flagger.app/scale-to-zero';
const parkingKeys: string[] = [parkingNodeSelector.key, flaggerParkingKey];

/** True when a parking node selector (Weir's, or Flagger's) keeps the DaemonSet's pods off every node. */
export function isParked(ds: k8s.V1DaemonSet | undefined): boolean {
  const selector = ds?.spec?.template?.spec?.nodeSelector ?? {};
  return parkingKeys.some((k) => selector[k] !== undefined);
}

/**
 * The pod template as Git declares it: without the parking keys (and without the
 * node selector if they were all it held, as the API server stores it). The
 * revision hash and the primary both come from this, so parking and un-parking
 * the canary is never a new revision.
 */
export function releasedTemplate(
  template: k8s.V1PodTemplateSpec | undefined,
): k8s.V1PodTemplateSpec | undefined {
  const selector = template?.spec?.nodeSelector;
  if (!template?.spec || !selector || !parkingKeys.some((k) => k in selector)) return template;
  const rest = Object.fromEntries(
    Object.entries(selector).filter(([k]) => !parkingKeys.includes(k)),
  );
  const spec: k8s.V1PodSpec = { ...template.spec, nodeSelector: rest };
  if (Object.keys(rest).length === 0) delete spec.nodeSelector;
  return { ...template, spec };
}

/**
 * The merge patch that parks (or un-parks) a DaemonSet: it names only the parking
 * keys of the node selector (un-parking removes Flagger's too), so the user's keys
 * and every other field stay as Git has them.
 */
export function parkingPatch(parked: boolean): Record<string, unknown> {
  const nodeSelector = parked
    ? { [parkingNodeSelector.key]: parkingNodeSelector.value }
    : Object.fromEntries(parkingKeys.map((k) => [k, null]));
  return { spec: { template: { spec: { nodeSelector } } } };
}

/**
 * True when a DaemonSet runs its current template, available, on every node it
 * should (what `kubectl rollout status daemonset` waits for). A DaemonSet
 * scheduled on no node is not ready: nothing would run to be judged.
 */
export function daemonSetRolledOut(ds: k8s.V1DaemonSet | undefined): boolean {
  if (!ds) return false;
  const s = ds.status;
  if (!s) return false;
  const desired = s.desiredNumberScheduled;
  return (
    (s.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0) &&
    desired > 0 &&
    (s.updatedNumberScheduled ?? 0) >= desired &&
    (s.numberAvailable ?? 0) >= desired
  );
}

/** Why Weir cannot release this DaemonSet, or undefined when it can. */
export function daemonSetUnsupported(ds: k8s.V1DaemonSet): string | undefined {
  const strategy = ds.spec?.updateStrategy?.type;
  if (strategy !== undefined && strategy !== 'RollingUpdate')
    return `DaemonSet ${ds.metadata?.name} has updateStrategy ${strategy}: the primary would never take a promoted template; use RollingUpdate`;
  return undefined;
}

/**
 * The primary DaemonSet: the target's released template (never parked), the
 * selector label rewritten, its update strategy, minReadySeconds and history
 * limit. Applied at bootstrap and at promotion (server-side apply).
 */
export function primaryDaemonSet(
  canary: Canary,
  from: {
    target: k8s.V1DaemonSet;
    label: { key: string; value: string };
    configs?: TrackedConfigs;
  },
): k8s.V1DaemonSet {
  const { target, label, configs } = from;
  const spec = target.spec!;
  const parts = primaryParts(canary, {
    template: releasedTemplate(spec.template)!,
    labels: target.metadata?.labels,
    label,
    ...(configs ? { configs } : {}),
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: parts.metadata,
    spec: {
      selector: parts.selector,
      ...(spec.updateStrategy ? { updateStrategy: spec.updateStrategy } : {}),
      ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
      ...(spec.revisionHistoryLimit !== undefined
        ? { revisionHistoryLimit: spec.revisionHistoryLimit }
        : {}),
      template: parts.template,
    },
  };
}
