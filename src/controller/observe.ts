import type * as k8s from '@kubernetes/client-node';
import { manualAnnotations } from '../api/annotations.js';
import type { Canary } from '../api/types.js';
import { replicasAppliedBy } from '../kube/managed-fields.js';
import type { Observation } from '../machine/canary-machine.js';
import { strategyOf } from '../api/strategy.js';
import { defaults } from '../api/durations.js';
import type { RouterRegistry } from '../routers/registry.js';
import type { Router } from '../routers/router.js';
import { configContent, trackedConfigs, type TrackedConfigs } from '../workloads/configs.js';
import {
  daemonSetRolledOut,
  daemonSetUnsupported,
  isParked,
  releasedTemplate,
} from '../workloads/daemonsets.js';
import {
  revisionAnnotation,
  revisionOf,
  rolledOut,
  selectorLabel,
} from '../workloads/workloads.js';
import { namesOf } from '../workloads/generated.js';
import { statefulSetUnsupported, statefulSetView } from '../workloads/statefulsets.js';
import { ownProviderOf, targetProviderProblem } from '../routers/target-providers.js';
import { knativeUnsupported, knativeView, type KnativeService } from '../workloads/knative.js';
import { evaluateGates } from './gates.js';

/** Reads from the informer caches: the reconciler never GETs from the API server. */
export interface Caches {
  canary(namespace: string, name: string): Canary | undefined;
  deployment(namespace: string, name: string): k8s.V1Deployment | undefined;
  daemonSet(namespace: string, name: string): k8s.V1DaemonSet | undefined;
  /** StatefulSets, when the controller watches them (`--statefulsets`). */
  statefulSet?: ((namespace: string, name: string) => k8s.V1StatefulSet | undefined) | undefined;
  /** Knative Services, when the controller watches them (`--knative`). */
  knativeService?: ((namespace: string, name: string) => KnativeService | undefined) | undefined;
  configMap(namespace: string, name: string): k8s.V1ConfigMap | undefined;
  secret(namespace: string, name: string): k8s.V1Secret | undefined;
}

/** A Canary that cannot be acted on, and why (a `Ready=False` reason and message). */
export interface Blocked {
  reason: string;
  message: string;
}

/** A workload Weir can release. */
export type Workload = k8s.V1Deployment | k8s.V1DaemonSet | k8s.V1StatefulSet | KnativeService;

/** The kinds a Canary can target. */
export type TargetKind = 'Deployment' | 'DaemonSet' | 'StatefulSet' | 'KnativeService';

/** The kind `spec.targetRef` names (a Deployment when it names none Weir knows: the schema refuses those). */
export function targetKindOf(canary: Canary): TargetKind {
  const kind = canary.spec?.targetRef?.kind;
  if (kind === 'Service') return 'KnativeService';
  return kind === 'DaemonSet' || kind === 'StatefulSet' ? kind : 'Deployment';
}

/**
 * The target (the canary during a release) and `<target>-primary` (once
 * bootstrapped), by the kind `spec.targetRef` names. A StatefulSet has no primary:
 * it is released in place (ADR 0019).
 */
export type Workloads =
  | { kind: 'Deployment'; target: k8s.V1Deployment; primary: k8s.V1Deployment | undefined }
  | { kind: 'DaemonSet'; target: k8s.V1DaemonSet; primary: k8s.V1DaemonSet | undefined }
  | { kind: 'StatefulSet'; target: k8s.V1StatefulSet; primary: undefined }
  | { kind: 'KnativeService'; target: KnativeService; primary: undefined };

/** Everything a reconcile knows about a Canary's world, read from the caches. */
export type World = WorldFacts & Workloads;

/** What a reconcile knows besides the workloads. */
export interface WorldFacts {
  canary: Canary;
  /** The selector label the Services select on (app, name or app.kubernetes.io/name). */
  label: { key: string; value: string };
  router: Router;
  configs: TrackedConfigs;
  /** The hash of the target's pod template and tracked configs. */
  revision: string;
  /** The observation for the machine, but for the clock and the routes' age. */
  observation: Omit<Observation, 'now' | 'routedAt'>;
}

/** What observing needs besides the caches. */
export interface ObserveDeps {
  caches: Caches;
  routers: RouterRegistry;
  /** Router of Canaries that name none. */
  defaultProvider: string;
  /** Why the Canary's spec is invalid (schema and CEL), or undefined. */
  invalidity(canary: Canary): string | undefined;
}

/** The workload of this kind and name, from the caches. */
export function workloadOf(
  caches: Caches,
  kind: string,
  namespace: string,
  name: string,
): Workload | undefined {
  if (kind === 'DaemonSet') return caches.daemonSet(namespace, name);
  if (kind === 'StatefulSet') return caches.statefulSet?.(namespace, name);
  if (kind === 'Service' || kind === 'KnativeService')
    return caches.knativeService?.(namespace, name);
  return caches.deployment(namespace, name);
}

/** The workload a Canary targets, from the caches. */
export function targetOf(canary: Canary, caches: Caches): Workload | undefined {
  const ref = canary.spec?.targetRef;
  return ref ? workloadOf(caches, ref.kind, canary.metadata.namespace!, ref.name) : undefined;
}

/**
 * Step 1 of a reconcile: what the Canary's world looks like now, from the caches
 * alone, or why the Canary cannot be acted on. Pure but for the cache reads.
 */
export function observe(canary: Canary, deps: ObserveDeps): World | Blocked {
  const namespace = canary.metadata.namespace!;
  const invalid = deps.invalidity(canary);
  if (invalid) return { reason: 'InvalidSpec', message: invalid };
  const kind = targetKindOf(canary);
  if (kind === 'StatefulSet' && !deps.caches.statefulSet)
    return {
      reason: 'StatefulSetsDisabled',
      message:
        'this controller does not watch StatefulSets: start it with --statefulsets (Helm: targets.statefulSets=true), which also lets it delete their pods on a rollback',
    };
  if (kind === 'KnativeService' && !deps.caches.knativeService)
    return {
      reason: 'KnativeDisabled',
      message:
        'this controller does not watch Knative Services: start it with --knative (Helm: routers.knative=true)',
    };
  const target = workloadOf(deps.caches, kind, namespace, canary.spec.targetRef.name);
  if (!target) {
    return {
      reason: 'TargetNotFound',
      message: `${kind} ${namespace}/${canary.spec.targetRef.name} not found`,
    };
  }
  // A workload another controller manages (another Canary's primary, an operator's):
  // Weir would copy it and scale it to zero under that controller's feet.
  const manager = target.metadata?.ownerReferences?.find((o) => o.controller);
  if (manager) {
    return {
      reason: 'TargetNotOwnable',
      message: `${kind} ${canary.spec.targetRef.name} is managed by ${manager.kind} ${manager.name}: a Canary can only target a ${kind} nothing else controls`,
    };
  }
  // A Knative Service has no selector: Knative labels its Revisions' pods by Service.
  const label =
    kind === 'KnativeService'
      ? { key: 'serving.knative.dev/service', value: canary.spec.targetRef.name }
      : selectorLabel(target as k8s.V1Deployment);
  if (!label) {
    return {
      reason: 'TargetWithoutSelectorLabel',
      message: `${kind} ${canary.spec.targetRef.name} has none of the selector labels app, name or app.kubernetes.io/name`,
    };
  }
  const names = namesOf(canary);
  // Released in place, a StatefulSet has no primary; a Knative Service's is a Revision.
  const primary =
    kind === 'StatefulSet' || kind === 'KnativeService'
      ? undefined
      : workloadOf(deps.caches, kind, namespace, names.primary);
  if (primary && !ownedBy(primary, canary)) {
    return {
      reason: 'NameConflict',
      message: `${kind} ${names.primary} exists and is not owned by this Canary`,
    };
  }
  const workloads = { kind, target, primary } as Workloads;
  const unsupportedTarget =
    workloads.kind === 'DaemonSet'
      ? daemonSetUnsupported(workloads.target)
      : workloads.kind === 'StatefulSet'
        ? statefulSetUnsupported(workloads.target)
        : workloads.kind === 'KnativeService'
          ? knativeUnsupported(workloads.target)
          : undefined;
  if (unsupportedTarget) return { reason: 'TargetNotSupported', message: unsupportedTarget };
  // A StatefulSet or a Knative Service has a provider of its own, its default.
  const provider = canary.spec.provider ?? ownProviderOf(canary) ?? deps.defaultProvider;
  const inPlace = targetProviderProblem(canary, provider);
  if (inPlace) return { reason: 'UnsupportedStrategy', message: inPlace };
  const resolved = deps.routers.resolve(provider);
  if ('error' in resolved) return { reason: 'UnknownProvider', message: resolved.error };
  const analysis = canary.spec.analysis;
  const unsupported = resolved.unsupported(canary, strategyOf(analysis));
  if (unsupported) return { reason: 'UnsupportedStrategy', message: unsupported };

  const { template, ready, primaryRevision, revision: named } = releaseView(workloads);
  // A StatefulSet's pods all mount the same configs, with no -primary copies to release
  // a change to by the partition: its revision is its pod template's. Knative names its own.
  const configs =
    kind === 'StatefulSet' || kind === 'KnativeService'
      ? { configMaps: [], secrets: [] }
      : trackedConfigs(template, {
          configMap: (n) => deps.caches.configMap(namespace, n),
          secret: (n) => deps.caches.secret(namespace, n),
        });
  const hasConfigs = configs.configMaps.length + configs.secrets.length > 0;
  const revision = named ?? revisionOf(template, hasConfigs ? configContent(configs) : undefined);
  const annotations = canary.metadata.annotations ?? {};
  return {
    canary,
    ...workloads,
    label,
    router: resolved,
    configs,
    revision,
    observation: {
      analysis,
      revision,
      primaryReady: ready.primary,
      ...(primaryRevision ? { primaryRevision } : {}),
      canaryReady: ready.canary,
      progressDeadlineSeconds:
        canary.spec.progressDeadlineSeconds ?? defaults.progressDeadlineSeconds,
      skipAnalysis: Boolean(canary.spec.skipAnalysis),
      suspended: Boolean(canary.spec.suspend),
      deleting: Boolean(canary.metadata.deletionTimestamp),
      revertOnDeletion: Boolean(canary.spec.revertOnDeletion),
      gates: evaluateGates(canary, revision),
      manual: {
        ...token(annotations[manualAnnotations.promote], revision, 'promote'),
        ...token(annotations[manualAnnotations.abort], revision, 'abort'),
        ...token(annotations[manualAnnotations.retry], revision, 'retry'),
      },
    },
  };
}

/**
 * The template a release is made of, whether primary and canary run it, and the
 * revision the primary runs, by kind. For a StatefulSet, the primary is its stable
 * set: the pods below the partition.
 */
function releaseView(w: Workloads): {
  template: k8s.V1PodTemplateSpec | undefined;
  ready: { primary: boolean; canary: boolean };
  primaryRevision: string | undefined;
  /** The revision of the release, when the workload names it (a Knative Revision). */
  revision?: string;
} {
  const annotated = w.primary?.metadata?.annotations?.[revisionAnnotation];
  if (w.kind === 'DaemonSet') {
    // Parking a DaemonSet writes to its pod template: what Git declares is the template without it.
    return {
      template: releasedTemplate(w.target.spec?.template),
      ready: {
        primary: daemonSetRolledOut(w.primary),
        canary: !isParked(w.target) && daemonSetRolledOut(w.target),
      },
      primaryRevision: annotated,
    };
  }
  if (w.kind === 'KnativeService') {
    const view = knativeView(w.target);
    return {
      template: w.target.spec?.template,
      ready: { primary: view.primaryReady, canary: view.canaryReady },
      primaryRevision: view.primaryRevision,
      revision: view.revision,
    };
  }
  if (w.kind === 'StatefulSet') {
    const template = w.target.spec?.template;
    const view = statefulSetView(w.target, revisionOf(template));
    return {
      template,
      ready: { primary: view.stableReady, canary: view.canaryReady },
      primaryRevision: view.stableRevision,
    };
  }
  return {
    template: w.target.spec?.template,
    ready: { primary: rolledOut(w.primary), canary: rolledOut(w.target) },
    primaryRevision: annotated,
  };
}

/** Whether {@link observe} found the world (or a reason to block). */
export function isBlocked(observed: World | Blocked): observed is Blocked {
  return 'reason' in observed;
}

/** A manual request applies to the revision it names: `<revision>` or `<revision>-<anything>`. */
function token(value: string | undefined, revision: string, kind: string): Record<string, string> {
  return value && (value === revision || value.startsWith(`${revision}-`)) ? { [kind]: value } : {};
}

function ownedBy(obj: Workload, canary: Canary): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((o) => o.uid === canary.metadata.uid);
}

/** `status.trackedConfigs`: the revision of each tracked ConfigMap and Secret. */
export function trackedConfigRevisions(world: World): Record<string, string> | undefined {
  const { configMaps, secrets } = world.configs;
  if (configMaps.length + secrets.length === 0) return undefined;
  return Object.fromEntries([
    ...configMaps.map((c) => [
      `configmap/${c.metadata!.name}`,
      revisionOf(undefined, [c.data, c.binaryData]),
    ]),
    ...secrets.map((x) => [`secret/${x.metadata!.name}`, revisionOf(undefined, [x.data])]),
  ]);
}

/** Who declares the target's replicas in Git (see {@link replicasAppliedBy}), if anyone. */
export function replicasInGit(world: World): { deployment: string; manager: string } | undefined {
  // A DaemonSet has no replicas to declare: parking it never fights Git.
  if (world.kind !== 'Deployment') return undefined;
  const manager = replicasAppliedBy(world.target);
  if (!manager) return undefined;
  return {
    deployment: `${world.target.metadata?.namespace}/${world.target.metadata?.name}`,
    manager,
  };
}

/** The images the primary runs and the target declares. */
export function imagesOf(world: World): { from: string[]; to: string[] } {
  const images = (d: Workload | undefined) =>
    (d?.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '');
  return { from: images(world.primary), to: images(world.target) };
}
