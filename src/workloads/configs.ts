import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import { canaryLabel, ownerReference } from './generated.js';

/** Annotation that opts a ConfigMap or Secret out of tracking (Flagger's convention, Weir's name). */
export const configTrackingAnnotation = 'weir.dev/config-tracking';

/** The ConfigMaps and Secrets a pod template uses: volumes, projected volumes, envFrom and env. */
export function referencedConfigs(template: k8s.V1PodTemplateSpec | undefined): {
  configMaps: string[];
  secrets: string[];
} {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const spec = template?.spec;
  for (const v of spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() };
}

const tracked = (o: { metadata?: k8s.V1ObjectMeta } | undefined) =>
  o !== undefined && o.metadata?.annotations?.[configTrackingAnnotation] !== 'disabled';

/** The tracked configs that exist, as they will be copied for the primary. */
export interface TrackedConfigs {
  configMaps: k8s.V1ConfigMap[];
  secrets: k8s.V1Secret[];
}

/** Looks the referenced configs up in the caches; untracked and missing ones are left alone. */
export function trackedConfigs(
  template: k8s.V1PodTemplateSpec | undefined,
  lookup: {
    configMap(name: string): k8s.V1ConfigMap | undefined;
    secret(name: string): k8s.V1Secret | undefined;
  },
): TrackedConfigs {
  const refs = referencedConfigs(template);
  return {
    configMaps: refs.configMaps
      .map((n) => lookup.configMap(n))
      .filter(tracked) as k8s.V1ConfigMap[],
    secrets: refs.secrets.map((n) => lookup.secret(n)).filter(tracked) as k8s.V1Secret[],
  };
}

/** What the revision hash covers besides the pod template: the content of every tracked config. */
export function configContent(configs: TrackedConfigs): unknown {
  return {
    configMaps: configs.configMaps.map((c) => [c.metadata?.name, c.data ?? {}, c.binaryData ?? {}]),
    secrets: configs.secrets.map((s) => [s.metadata?.name, s.data ?? {}]),
  };
}

/** `<name>-primary` copies of the tracked configs, owned by the Canary. */
export function primaryConfigs(canary: Canary, configs: TrackedConfigs): k8s.KubernetesObject[] {
  const meta = (name: string) => ({
    name: `${name}-primary`,
    namespace: canary.metadata.namespace!,
    labels: { [canaryLabel]: canary.metadata.name! },
    ownerReferences: [ownerReference(canary)],
  });
  return [
    ...configs.configMaps.map((c) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(c.metadata!.name!),
      data: c.data ?? {},
      ...(c.binaryData ? { binaryData: c.binaryData } : {}),
    })),
    ...configs.secrets.map((s) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(s.metadata!.name!),
      type: s.type ?? 'Opaque',
      data: s.data ?? {},
    })),
  ];
}

/** The pod template with every reference to a tracked config pointed at its `-primary` copy. */
export function withPrimaryConfigs(
  template: k8s.V1PodTemplateSpec,
  configs: TrackedConfigs,
): k8s.V1PodTemplateSpec {
  const cms = new Set(configs.configMaps.map((c) => c.metadata!.name!));
  const secrets = new Set(configs.secrets.map((s) => s.metadata!.name!));
  const cm = (n?: string) => (n && cms.has(n) ? `${n}-primary` : n);
  const sec = (n?: string) => (n && secrets.has(n) ? `${n}-primary` : n);
  const t = structuredClone(template);
  for (const v of t.spec?.volumes ?? []) {
    if (v.configMap) v.configMap.name = cm(v.configMap.name)!;
    if (v.secret) v.secret.secretName = sec(v.secret.secretName)!;
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) s.configMap.name = cm(s.configMap.name)!;
      if (s.secret) s.secret.name = sec(s.secret.name)!;
    }
  }
  for (const c of [...(t.spec?.containers ?? []), ...(t.spec?.initContainers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef) f.configMapRef.name = cm(f.configMapRef.name)!;
      if (f.secretRef) f.secretRef.name = sec(f.secretRef.name)!;
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef)
        e.valueFrom.configMapKeyRef.name = cm(e.valueFrom.configMapKeyRef.name)!;
      if (e.valueFrom?.secretKeyRef)
        e.valueFrom.secretKeyRef.name = sec(e.valueFrom.secretKeyRef.name)!;
    }
  }
  return t;
}
