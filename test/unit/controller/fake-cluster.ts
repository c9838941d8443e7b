import type * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import type { Canary, CanaryRun } from '../../../src/api/types.js';
import type { CheckOutcome, CheckRunner } from '../../../src/contracts/checks.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import { Recorder } from '../../../src/controller/recorder.js';
import { Telemetry } from '../../../src/controller/telemetry.js';
import type { KubeAccess, ObjectRef } from '../../../src/kube/access.js';
import { createLogger } from '../../../src/logger.js';
import type { Router, Routes } from '../../../src/routers/router.js';
import { RouterRegistry } from '../../../src/routers/registry.js';
import { ManualClock } from '../../../src/util/clock.js';

/** One call through the access layer or the router, as the test sees it. */
export type Call =
  | { verb: 'apply'; kind: string; name: string; body: k8s.KubernetesObject }
  | { verb: 'patchStatus'; kind: string; name: string; body: unknown; resourceVersion?: string }
  | { verb: 'patchMetadata'; name: string; body: unknown }
  | { verb: 'patchJson'; kind: string; name: string; body: unknown }
  | { verb: 'scale'; name: string; replicas: number }
  | { verb: 'patchWorkload'; kind: string; name: string; body: unknown }
  | { verb: 'evictPod'; name: string; uid: string }
  | { verb: 'event'; reason: string; type: string; message: string }
  | { verb: 'delete'; kind: string; name: string }
  | { verb: 'setRoutes'; routes: Routes }
  | { verb: 'finalize' };

const namespace = 'shop';

/** A Deployment `name` in `shop` with `replicas`, rolled out (ready) unless told otherwise. */
export function deployment(name: string, image: string, replicas = 2): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
    status: rolledOutStatus(replicas, 1),
  };
}

/** Nodes a {@link FakeCluster} schedules DaemonSet pods on. */
const nodes = 2;

/** A DaemonSet `name` in `shop` (RollingUpdate), rolled out on every node. */
export function daemonSet(name: string, image: string): k8s.V1DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
    status: daemonSetStatus(undefined, 1),
  };
}

/** What the DaemonSet controller reports at once: every node that matches runs the template. */
function daemonSetStatus(
  template: k8s.V1PodTemplateSpec | undefined,
  generation: number,
): k8s.V1DaemonSetStatus {
  // No node carries a label of a node selector: a DaemonSet with one runs nowhere.
  const scheduled = Object.keys(template?.spec?.nodeSelector ?? {}).length > 0 ? 0 : nodes;
  return {
    observedGeneration: generation,
    desiredNumberScheduled: scheduled,
    currentNumberScheduled: scheduled,
    updatedNumberScheduled: scheduled,
    numberAvailable: scheduled,
    numberReady: scheduled,
    numberMisscheduled: 0,
  };
}

function rolledOutStatus(replicas: number, generation: number): k8s.V1DeploymentStatus {
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    availableReplicas: replicas,
    readyReplicas: replicas,
  };
}

/**
 * A cluster in memory standing in for the API server: the caches the reconciler
 * reads are its objects, every write lands in them (as the watch would bring it
 * back) and is recorded as a {@link Call}. Deployments roll out at once.
 */
export class FakeCluster {
  readonly calls: Call[] = [];
  readonly canaries = new Map<string, Canary>();
  readonly deployments = new Map<string, k8s.V1Deployment>();
  readonly daemonSets = new Map<string, k8s.V1DaemonSet>();
  /** StatefulSets; their status is the test's to set (no controller runs here). */
  readonly statefulSets = new Map<string, k8s.V1StatefulSet>();
  /** Pods, by name, for StatefulSet rollbacks. */
  readonly pods = new Map<string, k8s.V1Pod>();
  readonly runs = new Map<string, CanaryRun>();
  /** Fails the next write whose verb and kind match, with this error. */
  failNext: { verb: Call['verb']; kind?: string; error: Error } | undefined;
  private version = 100;

  readonly kube: KubeAccess = {
    apply: async <T extends k8s.KubernetesObject>(obj: T): Promise<T> => {
      const name = obj.metadata!.name!;
      this.record({ verb: 'apply', kind: obj.kind!, name, body: obj });
      if (obj.kind === 'Deployment') {
        const d = obj as k8s.V1Deployment;
        const old = this.deployments.get(name);
        const generation = (old?.metadata?.generation ?? 0) + 1;
        const stored: k8s.V1Deployment = {
          ...d,
          metadata: { ...d.metadata, generation, resourceVersion: this.nextVersion() },
          status: rolledOutStatus(d.spec?.replicas ?? 1, generation),
        };
        this.deployments.set(name, stored);
        return stored as T;
      }
      if (obj.kind === 'DaemonSet') {
        const d = obj as k8s.V1DaemonSet;
        const generation = (this.daemonSets.get(name)?.metadata?.generation ?? 0) + 1;
        const stored: k8s.V1DaemonSet = {
          ...d,
          metadata: { ...d.metadata, generation, resourceVersion: this.nextVersion() },
          status: daemonSetStatus(d.spec?.template, generation),
        };
        this.daemonSets.set(name, stored);
        return stored as T;
      }
      if (obj.kind === 'CanaryRun') {
        const run = { ...(obj as unknown as CanaryRun) };
        run.metadata = { ...run.metadata, resourceVersion: this.nextVersion() };
        this.runs.set(name, run);
        return run as unknown as T;
      }
      return obj;
    },
    patchStatus: async (kind, ref: ObjectRef, status, resourceVersion) => {
      this.record({
        verb: 'patchStatus',
        kind,
        name: ref.name,
        body: status,
        ...(resourceVersion ? { resourceVersion } : {}),
      });
      const stored = kind === 'canaries' ? this.canaries.get(ref.name) : this.runs.get(ref.name);
      if (!stored) throw Object.assign(new Error('not found'), { code: 404 });
      if (resourceVersion && stored.metadata!.resourceVersion !== resourceVersion)
        throw Object.assign(new Error('conflict'), { code: 409 });
      const merged = mergePatch(stored.status ?? {}, status) as never;
      const version = this.nextVersion();
      const next = { ...stored, metadata: { ...stored.metadata, resourceVersion: version } };
      (next as { status: unknown }).status = merged;
      if (kind === 'canaries') this.canaries.set(ref.name, next as Canary);
      else this.runs.set(ref.name, next as CanaryRun);
      return version;
    },
    patchMetadata: async (_kind, ref, metadata) => {
      this.record({ verb: 'patchMetadata', name: ref.name, body: metadata });
    },
    patchJson: async (resource, ref, operations) => {
      this.record({ verb: 'patchJson', kind: resource.plural, name: ref.name, body: operations });
    },
    scaleDeployment: async (ref, replicas) => {
      this.record({ verb: 'scale', name: ref.name, replicas });
      const d = this.deployments.get(ref.name)!;
      const generation = (d.metadata!.generation ?? 0) + 1;
      this.deployments.set(ref.name, {
        ...d,
        metadata: { ...d.metadata, generation },
        spec: { ...d.spec!, replicas },
        status: rolledOutStatus(replicas, generation),
      });
    },
    patchWorkload: async (kind, ref, patch) => {
      this.record({ verb: 'patchWorkload', kind, name: ref.name, body: patch });
      if (kind === 'StatefulSet') {
        const sts = this.statefulSets.get(ref.name)!;
        const generation = (sts.metadata!.generation ?? 0) + 1;
        const patched = mergePatch(sts, patch) as k8s.V1StatefulSet;
        this.statefulSets.set(ref.name, {
          ...patched,
          metadata: { ...patched.metadata, generation },
        });
        return;
      }
      const d = this.daemonSets.get(ref.name)!;
      const generation = (d.metadata!.generation ?? 0) + 1;
      const patched = mergePatch(d, patch) as k8s.V1DaemonSet;
      const selector = patched.spec?.template?.spec?.nodeSelector;
      // The API server stores an empty node selector as none.
      if (selector && Object.keys(selector).length === 0)
        delete patched.spec!.template!.spec!.nodeSelector;
      this.daemonSets.set(ref.name, {
        ...patched,
        metadata: { ...patched.metadata, generation },
        status: daemonSetStatus(patched.spec?.template, generation),
      });
    },
    createEvent: async (event) => {
      this.record({
        verb: 'event',
        reason: event.reason!,
        type: event.type!,
        message: event.message!,
      });
    },
    listPods: async () => [...this.pods.values()],
    evictPod: async (ref, uid) => {
      this.record({ verb: 'evictPod', name: ref.name, uid });
      return this.pods.delete(ref.name);
    },
    deleteObject: async (obj) => {
      this.record({ verb: 'delete', kind: obj.kind, name: obj.metadata.name });
    },
  };

  /** A router that records what it is asked and refuses nothing. */
  readonly router: Router = {
    name: 'kubernetes',
    unsupported: () => undefined,
    setRoutes: async (_canary: Canary, routes: Routes) =>
      this.record({ verb: 'setRoutes', routes }),
    getRoutes: async () => undefined,
    finalize: async () => this.record({ verb: 'finalize' }),
  } as unknown as Router;

  /** Adds a Canary as the user would create it (no status yet). */
  addCanary(canary: Canary): void {
    this.canaries.set(canary.metadata.name!, {
      ...canary,
      metadata: { ...canary.metadata, generation: 1, resourceVersion: this.nextVersion() },
    });
  }

  /** The calls since the last `take()`, and forgets them. */
  take(): Call[] {
    return this.calls.splice(0);
  }

  private record(call: Call): void {
    this.calls.push(call);
    const fail = this.failNext;
    if (
      fail &&
      fail.verb === call.verb &&
      (!fail.kind || ('kind' in call && call.kind === fail.kind))
    ) {
      this.failNext = undefined;
      throw fail.error;
    }
  }

  private nextVersion(): string {
    this.version += 1;
    return String(this.version);
  }
}

/** RFC 7386 merge patch: null removes a key. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Checks the test sets: the outcome of every step until changed. */
export class ScriptedChecks implements CheckRunner {
  outcome: CheckOutcome = { passed: true, failures: [] };
  calls = 0;
  async run(): Promise<CheckOutcome> {
    this.calls += 1;
    return this.outcome;
  }
}

/**
 * A reconciler on a {@link FakeCluster}, a manual clock and scripted checks. Its one
 * router is the cluster's recording fake unless `options.router` names a real one
 * (a StatefulSet's partition is written by the kubernetes router itself).
 */
export function reconcilerOn(cluster: FakeCluster, options: { router?: Router } = {}) {
  const clock = new ManualClock(Date.parse('2026-12-01T10:00:00Z'));
  const checks = new ScriptedChecks();
  const logger = createLogger('error', new Writable({ write: (_c, _e, done) => done() }));
  const telemetry = new Telemetry(new Registry());
  const enqueued: string[] = [];
  const reconciler = new Reconciler({
    kube: cluster.kube,
    caches: {
      canary: (_ns, name) => cluster.canaries.get(name),
      deployment: (_ns, name) => (name ? cluster.deployments.get(name) : undefined),
      daemonSet: (_ns, name) => (name ? cluster.daemonSets.get(name) : undefined),
      statefulSet: (_ns, name) => (name ? cluster.statefulSets.get(name) : undefined),
      configMap: () => undefined,
      secret: () => undefined,
    },
    routers: new RouterRegistry().register(options.router ?? cluster.router),
    checks,
    recorder: new Recorder({
      kube: cluster.kube,
      logger,
      telemetry,
      runsOf: () => [...cluster.runs.values()],
    }),
    telemetry,
    clock,
    logger,
    defaultProvider: 'kubernetes',
    enqueue: (key) => enqueued.push(key),
  });
  return { reconciler, clock, checks, enqueued };
}

/**
 * Reconciles `key` `times` times, letting background checks finish and moving the clock
 * `stepMs` after each; the writes of each reconcile, as `summary` names them.
 */
export async function reconcileSteps(
  w: {
    reconciler: { reconcile(key: string): Promise<unknown> };
    cluster: { take(): Call[] };
    clock: { advance(ms: number): void };
  },
  key: string,
  times: number,
  stepMs: number,
  summary: (c: Call) => string,
): Promise<string[][]> {
  const writes: string[][] = [];
  for (let i = 0; i < times; i++) {
    await w.reconciler.reconcile(key);
    writes.push(w.cluster.take().map(summary));
    await new Promise((r) => setTimeout(r, 1));
    w.clock.advance(stepMs);
  }
  return writes;
}
