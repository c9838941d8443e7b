import * as k8s from '@kubernetes/client-node';
import path from 'node:path';
import type { Canary, CanaryRun, CanarySpec } from '../../src/api/types.js';
import type { Cluster } from './cluster.js';
import { repoRoot } from './tools.js';
import { waitFor } from './wait.js';

/** Installs Weir's CRDs from crds/ and waits until the API server serves them. */
export async function installWeirCrds(cluster: Cluster): Promise<void> {
  await cluster.kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds')]);
  await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
}

/** API clients on the cluster's admin kubeconfig. */
export function clientsFor(cluster: Cluster) {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  return {
    kubeConfig,
    objects: k8s.KubernetesObjectApi.makeApiClient(kubeConfig),
    apps: kubeConfig.makeApiClient(k8s.AppsV1Api),
  };
}

/** Reads a Canary. */
export async function readCanary(
  objects: k8s.KubernetesObjectApi,
  namespace: string,
  name: string,
): Promise<Canary> {
  return (await objects.read({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name, namespace },
  })) as Canary;
}

/** Changes the image of the container `app`, as a Git change to the Deployment would. */
export async function setImage(
  apps: k8s.AppsV1Api,
  namespace: string,
  name: string,
  image: string,
): Promise<void> {
  await apps.patchNamespacedDeployment(
    {
      name,
      namespace,
      body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

/**
 * Creates a Deployment `name` with selector `app: name`, one container `app`
 * running `example.test/<name>:1`, and optional extra container fields.
 */
export async function createDeployment(
  apps: k8s.AppsV1Api,
  namespace: string,
  name: string,
  replicas: number,
  container: Partial<k8s.V1Container> = {},
): Promise<void> {
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: `example.test/${name}:1`, ...container }] },
        },
      },
    },
  });
}

/** Creates a Canary; by default it targets the Deployment of the same name on port 80. */
export async function createCanary(
  objects: k8s.KubernetesObjectApi,
  namespace: string,
  name: string,
  spec: Partial<CanarySpec> & Pick<CanarySpec, 'analysis'>,
): Promise<void> {
  await objects.create({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 80 },
      ...spec,
    },
  } as Canary);
}

/** Reads the CanaryRun of a Canary's current (or last) release. */
export async function currentRun(
  objects: k8s.KubernetesObjectApi,
  namespace: string,
  canary: string,
): Promise<CanaryRun> {
  const name = (await readCanary(objects, namespace, canary)).status?.currentRun;
  if (!name) throw new Error(`Canary ${namespace}/${canary} has no current run`);
  return (await objects.read({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'CanaryRun',
    metadata: { name, namespace },
  })) as CanaryRun;
}

/**
 * The current run once it has its result. A controller in another process writes
 * the Canary's status before the run records the end (the run follows from the
 * outbox), so a test that saw the phase polls here instead of reading at once.
 */
export async function endedRun(
  objects: k8s.KubernetesObjectApi,
  namespace: string,
  canary: string,
  timeoutMs = 30_000,
): Promise<CanaryRun> {
  return waitFor(
    async () => {
      const run = await currentRun(objects, namespace, canary);
      return run.status?.result ? run : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `the run of ${namespace}/${canary} to record its result` },
  );
}

/**
 * Drives a controller on a manual clock: lets the queue settle, asks `probe`,
 * and moves the clock one step until `probe` returns a value. Bounded: fails
 * after `maxSteps`, naming what it waited for.
 */
export async function stepUntil<T>(
  app: { queue: { idle(): Promise<void> } },
  clock: { advance(ms: number): void },
  what: string,
  probe: () => Promise<T | undefined>,
  { stepMs = 1_000, maxSteps = 300, settleMs = 50 } = {},
): Promise<T> {
  for (let i = 0; i < maxSteps; i++) {
    await app.queue.idle();
    const v = await probe();
    if (v !== undefined) {
      // A reconcile may have started after idle() and written the status the probe saw: the
      // status is written before its effects are performed, so let it finish them too.
      await app.queue.idle();
      return v;
    }
    clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, settleMs));
  }
  throw new Error(`Gave up waiting for ${what} after ${maxSteps} steps of ${stepMs} ms`);
}

/** One metric of a release judged by a MetricTemplate: its name, window and upper bound. */
export interface TemplateMetric {
  template: string;
  interval: string;
  max: number;
}

/**
 * Creates a Deployment and a Canary judged by one MetricTemplate metric (steps of 10 % to
 * 20 %, one check every 10 s), waits until it is Initialized, and changes the image, so a
 * release starts: the shape every metric provider's integration test releases.
 */
export async function startTemplateRelease(
  clients: { objects: k8s.KubernetesObjectApi; apps: k8s.AppsV1Api },
  until: (what: string, probe: () => Promise<true | undefined>) => Promise<unknown>,
  phaseIs: (name: string, phase: string) => () => Promise<true | undefined>,
  namespace: string,
  name: string,
  metric: TemplateMetric,
  analysis: { threshold?: number } = {},
): Promise<void> {
  await createDeployment(clients.apps, namespace, name, 1);
  await createCanary(clients.objects, namespace, name, {
    service: { port: 80, gatewayRefs: [{ name: 'public' }] },
    analysis: {
      interval: '10s',
      ...analysis,
      maxWeight: 20,
      stepWeight: 10,
      metrics: [
        {
          name: metric.template,
          templateRef: { name: metric.template },
          interval: metric.interval,
          thresholdRange: { max: metric.max },
        },
      ],
    },
  });
  await until(`${name} Initialized`, phaseIs(name, 'Initialized'));
  await setImage(clients.apps, namespace, name, `example.test/${name}:2`);
}
