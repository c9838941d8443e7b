import type * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { startCluster, type Cluster } from './cluster.js';
import { canaryProbes, manualClock, startInProcess } from './in-process.js';
import {
  clientsFor,
  currentRun,
  installWeirCrds,
  startTemplateRelease,
  stepUntil,
  type TemplateMetric,
} from './weir.js';

/**
 * A real control plane, one namespace and Weir in process on a manual clock: where each
 * metric provider's integration test releases Canaries judged by its MetricTemplates.
 */
export interface MetricsBed {
  readonly namespace: string;
  readonly objects: k8s.KubernetesObjectApi;
  readonly apps: k8s.AppsV1Api;
  readonly clock: ReturnType<typeof manualClock>;
  /** Moves the clock until `probe` answers (see `stepUntil`). */
  until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T>;
  phaseIs(name: string, phase: string): () => Promise<true | undefined>;
  /** A Secret the controller may use as credentials (labelled `weir.dev/credentials`). */
  secret(name: string, stringData: Record<string, string>): Promise<unknown>;
  template(name: string, provider: Record<string, unknown>, query: string): Promise<unknown>;
  /** Starts a release of `name` judged by one template metric (`startTemplateRelease`). */
  release(name: string, metric: TemplateMetric, analysis?: { threshold?: number }): Promise<void>;
  /**
   * Waits for `good` to be promoted and `bad` rolled back, and checks what their runs say:
   * every measurement of `good` is `value` and passed, `bad` failed on its value above the bound.
   */
  expectJudged(
    good: string,
    bad: string,
    expected: { metric: string; value: number; badValue: number; bound: number },
  ): Promise<void>;
  /** Starts Weir (after the templates exist, as an operator would). */
  startController(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the cluster and the namespace; `startController` starts Weir. */
export async function startMetricsBed(namespace: string): Promise<MetricsBed> {
  const cluster: Cluster = await startCluster({ nodes: 1 });
  let app: App | undefined;
  try {
    await installWeirCrds(cluster);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const clients = clientsFor(cluster);
  const { objects, apps } = clients;
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const clock = manualClock();
  const { phaseIs } = canaryProbes(() => objects, namespace);
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app!, clock, what, probe);
  return {
    namespace,
    objects,
    apps,
    clock,
    until,
    phaseIs,
    secret: (name, stringData) =>
      objects.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, labels: { 'weir.dev/credentials': 'true' } },
        stringData,
      } as k8s.V1Secret),
    template: (name, provider, query) =>
      objects.create({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'MetricTemplate',
        metadata: { name, namespace },
        spec: { provider, query },
      } as k8s.KubernetesObject),
    release: (name, metric, analysis = {}) =>
      startTemplateRelease({ objects, apps }, until, phaseIs, namespace, name, metric, analysis),
    async expectJudged(good, bad, { metric, value, badValue, bound }) {
      await until(`${good} Succeeded`, phaseIs(good, 'Succeeded'));
      await until(`${bad} Failed`, phaseIs(bad, 'Failed'));
      const promoted = await currentRun(objects, namespace, good);
      const measured = promoted.status!.transitions!.flatMap((t) => t.metrics ?? []);
      expect(measured.length).toBeGreaterThan(0);
      for (const m of measured) expect(m).toMatchObject({ name: metric, value, passed: true });
      const rolledBack = await currentRun(objects, namespace, bad);
      expect(rolledBack.status?.result).toBe('RolledBack');
      expect(rolledBack.status!.transitions!.at(-1)!.message).toContain(
        `${metric} ${badValue} > ${bound}`,
      );
    },
    async startController() {
      app = await startInProcess(clients.kubeConfig, { clock });
    },
    async stop() {
      await app?.stop();
      await cluster.stop();
    },
  };
}
