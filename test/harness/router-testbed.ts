import type * as k8s from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import type { Canary } from '../../src/api/types.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/util/clock.js';
import { startCluster, type Cluster } from './cluster.js';
import { followRelease, ScriptedChecks, startController, type ObservedStep } from './controller.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
  readCanary,
  setImage,
  stepUntil,
} from './weir.js';

/** A condition of a Canary's status. */
export type CanaryCondition = NonNullable<NonNullable<Canary['status']>['conditions']>[number];

/** Consecutive duplicates removed: the distinct splits a release went through. */
export const distinct = (values: string[]) => values.filter((v, i) => v !== values[i - 1]);

/**
 * What every router integration test stands on: a real control plane with the
 * Weir CRDs (and the routers' CRDs unless told otherwise), one namespace, and
 * Weir running in-process on a manual clock with scripted checks.
 */
export interface RouterTestbed {
  cluster: Cluster;
  app: App;
  objects: k8s.KubernetesObjectApi;
  apps: k8s.AppsV1Api;
  kubeConfig: k8s.KubeConfig;
  clock: ManualClock;
  checks: ScriptedChecks;
  namespace: string;
  canary(name: string): Promise<Canary>;
  /** Steps the clock until `probe` answers; `maxSteps` as in `stepUntil`. */
  until<T>(what: string, probe: () => Promise<T | undefined>, maxSteps?: number): Promise<T>;
  /** Steps the clock until the Canary `name` is in `phase`; `maxSteps` as in `stepUntil`. */
  untilPhase(name: string, phase: string, maxSteps?: number): Promise<void>;
  /** Steps the clock until the Canary `name`'s Ready condition has `reason`, and returns it. */
  untilReady(name: string, reason: string): Promise<CanaryCondition>;
  /** Applies `manifest` as a user (or a GitOps tool) would: kubectl apply, with its own field manager. */
  applyAsUser(manifest: unknown): Promise<string>;
  /**
   * Starts a release of `name` (a new image), steps the clock until `reached`
   * holds, then fails the checks until the Canary has rolled back (Failed).
   */
  rollBackAfter(name: string, what: string, reached: () => Promise<boolean>): Promise<void>;
  /** Deletes the Canary `name` and steps the clock until it is gone (its finalizer has run). */
  deleteCanary(name: string): Promise<void>;
  /** A Deployment `name` with two replicas and its Canary with `spec`, bootstrapped to Initialized. */
  bootstrap(
    name: string,
    spec: Partial<Canary['spec']> & Pick<Canary['spec'], 'analysis'>,
  ): Promise<void>;
  /**
   * Changes the image of `name` and follows the release to its end, reading the
   * routing objects with `read` after every clock step. Fails unless it was promoted.
   */
  release<R>(name: string, read: () => Promise<R>): Promise<ObservedStep<R>[]>;
  stop(): Promise<void>;
}

export async function startRouterTestbed(options: {
  namespace: string;
  /** The clock's start: each file its own day keeps their Events apart when read by time. */
  startTime: string;
  /** False for routers that write only built-in kinds (no router CRDs installed). */
  routerCrds?: boolean;
  /** Leave probed pods to a PodRunner (a real data plane; see startCluster). */
  podRunner?: boolean;
}): Promise<RouterTestbed> {
  const { namespace } = options;
  const clock = new ManualClock(Date.parse(options.startTime));
  const checks = new ScriptedChecks();
  const cluster = await startCluster({
    nodes: 1,
    routerCrds: options.routerCrds ?? true,
    podRunner: options.podRunner ?? false,
  });
  let app: App | undefined;
  try {
    await installWeirCrds(cluster);
    const { kubeConfig, objects, apps } = clientsFor(cluster);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const started = await startController({ kubeConfig, clock, checks });
    app = started;
    const canary = (name: string) => readCanary(objects, namespace, name);
    const until = <T>(what: string, probe: () => Promise<T | undefined>, maxSteps?: number) =>
      stepUntil(started, clock, what, probe, maxSteps ? { maxSteps } : {});
    const untilPhase = async (name: string, phase: string, maxSteps?: number) => {
      await until(
        `${name} ${phase}`,
        async () => ((await canary(name)).status?.phase === phase ? true : undefined),
        maxSteps,
      );
    };
    return {
      cluster,
      app: started,
      objects,
      apps,
      kubeConfig,
      clock,
      checks,
      namespace,
      canary,
      until,
      untilPhase,
      untilReady: (name, reason) =>
        until(`${name} ${reason}`, async () => {
          const ready = (await canary(name)).status?.conditions?.find((c) => c.type === 'Ready');
          return ready?.reason === reason ? ready : undefined;
        }),
      applyAsUser: (manifest) => cluster.kubectl(['apply', '-f', '-'], yaml.dump(manifest)),
      async rollBackAfter(name, what, reached) {
        await setImage(apps, namespace, name, `example.test/${name}:2`);
        await until(what, async () => ((await reached()) ? true : undefined));
        checks.outcome = { passed: false, failures: ['request-success-rate 91.2% < 99%'] };
        try {
          await untilPhase(name, 'Failed');
        } finally {
          checks.outcome = { passed: true, failures: [] };
        }
      },
      async deleteCanary(name) {
        await objects.delete({
          apiVersion: 'weir.dev/v1alpha1',
          kind: 'Canary',
          metadata: { name, namespace },
        });
        await until(`${name} to be gone`, async () =>
          (await canary(name).catch(() => undefined)) === undefined ? true : undefined,
        );
      },
      async bootstrap(name, spec) {
        await createDeployment(apps, namespace, name, 2);
        await createCanary(objects, namespace, name, spec);
        await untilPhase(name, 'Initialized');
      },
      async release(name, read) {
        await setImage(apps, namespace, name, `example.test/${name}:2`);
        const steps = await followRelease({ app: started, clock, objects, namespace, name, read });
        const end = steps.at(-1)?.phase;
        if (end !== 'Succeeded')
          throw new Error(`The release of ${namespace}/${name} ended ${end}, not Succeeded`);
        return steps;
      },
      async stop() {
        await started.stop();
        await cluster.stop();
      },
    };
  } catch (err) {
    await app?.stop();
    await cluster.stop();
    throw err;
  }
}
