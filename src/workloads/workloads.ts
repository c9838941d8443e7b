import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import { configContent, withPrimaryConfigs, type TrackedConfigs } from './configs.js';
import { canaryLabel, namesOf, ownerReference } from './generated.js';

/** Annotation on the primary Deployment: the revision its pod template came from. */
export const revisionAnnotation = 'weir.dev/revision';

/** Selector labels Weir can rewrite for the primary, in Flagger's order of preference. */
export const selectorLabelKeys = ['app', 'name', 'app.kubernetes.io/name'] as const;

/** The value with object keys sorted, so equal objects serialise equally. */
export function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * The revision of a workload: a short hash of its pod template's canonical JSON
 * and of the content of the configs it uses, so a changed ConfigMap is a new
 * revision just like a changed image.
 */
export function revisionOf(template: k8s.V1PodTemplateSpec | undefined, configs?: unknown): string {
  const subject = configs === undefined ? (template ?? {}) : { template: template ?? {}, configs };
  return createHash('sha256')
    .update(JSON.stringify(stable(subject)))
    .digest('hex')
    .slice(0, 10);
}

/** The selector label Weir rewrites (`app: web` → `app: web-primary`), or undefined when there is none. */
export function selectorLabel(target: {
  spec?: { selector?: k8s.V1LabelSelector };
}): { key: string; value: string } | undefined {
  const labels = target.spec?.selector?.matchLabels ?? {};
  for (const key of selectorLabelKeys) {
    const value = labels[key];
    if (value) return { key, value };
  }
  return undefined;
}

/** True when a Deployment has rolled out its current spec and all desired replicas are available. */
export function rolledOut(d: k8s.V1Deployment | undefined): boolean {
  if (!d) return false;
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= desired &&
    (s.availableReplicas ?? 0) >= desired &&
    // No replicas of an older template left.
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    desired > 0
  );
}

/** What a primary copies from its target, whatever the workload kind. */
export interface PrimarySource {
  /** The target's pod template as Weir releases it (for a DaemonSet, without the parking key). */
  template: k8s.V1PodTemplateSpec;
  /** The target's labels. */
  labels: Record<string, string> | undefined;
  label: { key: string; value: string };
  configs?: TrackedConfigs;
}

/**
 * The parts every primary shares: metadata (the target's labels with the selector
 * label rewritten, the revision annotation, the Canary as owner), the rewritten
 * selector, and the pod template pointed at the `-primary` configs.
 */
export function primaryParts(
  canary: Canary,
  from: PrimarySource,
): {
  metadata: k8s.V1ObjectMeta;
  selector: k8s.V1LabelSelector;
  template: k8s.V1PodTemplateSpec;
} {
  const { label, configs = { configMaps: [], secrets: [] } } = from;
  const names = namesOf(canary);
  const primaryValue = `${label.value}-primary`;
  const template = withPrimaryConfigs(from.template, configs);
  const tracked = configs.configMaps.length + configs.secrets.length > 0;
  return {
    metadata: {
      name: names.primary,
      namespace: canary.metadata.namespace!,
      labels: {
        ...(from.labels ?? {}),
        [label.key]: primaryValue,
        [canaryLabel]: canary.metadata.name!,
      },
      annotations: {
        [revisionAnnotation]: revisionOf(
          from.template,
          tracked ? configContent(configs) : undefined,
        ),
      },
      ownerReferences: [ownerReference(canary)],
    },
    selector: { matchLabels: { [label.key]: primaryValue } },
    template: {
      metadata: {
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        labels: { ...(template.metadata?.labels ?? {}), [label.key]: primaryValue },
      },
      spec: template.spec,
    },
  };
}

/**
 * The primary Deployment: a copy of the target's pod template with the selector
 * label rewritten, annotated with the revision it runs. Applied at bootstrap and
 * at promotion (server-side apply, so applying twice changes nothing).
 */
export function primaryDeployment(
  canary: Canary,
  from: {
    target: k8s.V1Deployment;
    /** The primary as it is, if it exists. */
    existing: k8s.V1Deployment | undefined;
    label: { key: string; value: string };
    configs?: TrackedConfigs;
  },
): k8s.V1Deployment {
  const { target, existing, label, configs } = from;
  const parts = primaryParts(canary, {
    template: target.spec!.template,
    labels: target.metadata?.labels,
    label,
    ...(configs ? { configs } : {}),
  });
  const replicas = existing?.spec?.replicas ?? (target.spec?.replicas || 1);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: parts.metadata,
    spec: {
      replicas,
      selector: parts.selector,
      ...(target.spec?.strategy ? { strategy: target.spec.strategy } : {}),
      ...(target.spec?.minReadySeconds !== undefined
        ? { minReadySeconds: target.spec.minReadySeconds }
        : {}),
      template: parts.template,
    },
  };
}

/** The apex, primary and canary Services. The apex selects the primary until a router says otherwise. */
export function services(
  canary: Canary,
  label: { key: string; value: string },
  apexTo: 'primary' | 'canary' = 'primary',
): k8s.V1Service[] {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const port: k8s.V1ServicePort = {
    name: s.portName ?? 'http',
    port: s.port,
    targetPort: (s.targetPort ?? s.port) as never,
    protocol: 'TCP',
    ...(s.appProtocol ? { appProtocol: s.appProtocol } : {}),
  };
  const make = (
    name: string,
    selectorValue: string,
    meta?: { labels?: Record<string, string>; annotations?: Record<string, string> },
  ): k8s.V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: canary.metadata.namespace!,
      labels: { ...(meta?.labels ?? {}), [canaryLabel]: canary.metadata.name! },
      ...(meta?.annotations ? { annotations: meta.annotations } : {}),
      ownerReferences: [ownerReference(canary)],
    },
    spec: { type: 'ClusterIP', selector: { [label.key]: selectorValue }, ports: [port] },
  });
  return [
    make(names.apex, apexTo === 'primary' ? `${label.value}-primary` : label.value, s.apex),
    make(names.apexPrimary, `${label.value}-primary`, s.primary),
    make(names.apexCanary, label.value, s.canary),
  ];
}
