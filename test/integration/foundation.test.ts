import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { startMetricsApp, type MetricsApp } from '../harness/metrics-app.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { waitFor } from '../harness/wait.js';

// Given the local control plane (etcd, kube-apiserver, controller-manager,
// scheduler, KWOK) with the router CRDs, and a real Prometheus.
describe('foundation: real local Kubernetes and Prometheus', () => {
  let cluster: Cluster;
  let objects: k8s.KubernetesObjectApi;
  const namespace = 'foundation';

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs a Deployment of 3 replicas to 3 Ready pods on KWOK nodes', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'podinfo' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'podinfo' } },
          template: {
            metadata: { labels: { app: 'podinfo' } },
            spec: {
              containers: [{ name: 'podinfo', image: 'ghcr.io/stefanprodan/podinfo:6.7.0' }],
            },
          },
        },
      },
    });

    const ready = await waitFor(
      async () => {
        const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=podinfo' });
        const readyPods = pods.items.filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return readyPods.length === 3 ? readyPods : undefined;
      },
      { timeoutMs: 60_000, what: '3 Ready podinfo pods' },
    );
    expect(ready.map((p) => p.spec?.nodeName)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^kwok-node-/)]),
    );
    const deployment = await apps.readNamespacedDeployment({ name: 'podinfo', namespace });
    await waitFor(
      async () =>
        (await apps.readNamespacedDeployment({ name: 'podinfo', namespace })).status
          ?.readyReplicas === 3
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'deployment status readyReplicas=3' },
    );
    expect(deployment.spec?.replicas).toBe(3);
  });

  const routerObjects: {
    what: string;
    valid: k8s.KubernetesObject & Record<string, unknown>;
    invalid: Record<string, unknown>;
    weights: (o: any) => number[];
  }[] = [
    {
      what: 'Gateway API HTTPRoute v1',
      valid: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'podinfo', namespace },
        spec: {
          parentRefs: [{ name: 'public-gateway' }],
          rules: [
            {
              backendRefs: [
                { name: 'podinfo-primary', port: 9898, weight: 90 },
                { name: 'podinfo-canary', port: 9898, weight: 10 },
              ],
            },
          ],
        },
      },
      invalid: { backendRefs: [{ name: 'podinfo-primary', port: 70000, weight: 90 }] },
      weights: (o) => o.spec.rules[0].backendRefs.map((b: { weight: number }) => b.weight),
    },
    {
      what: 'Istio VirtualService',
      valid: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'podinfo', namespace },
        spec: {
          hosts: ['podinfo'],
          http: [
            {
              route: [
                { destination: { host: 'podinfo-primary' }, weight: 80 },
                { destination: { host: 'podinfo-canary' }, weight: 20 },
              ],
            },
          ],
        },
      },
      invalid: { route: [{ destination: { host: 'podinfo-primary' }, weight: 'heavy' }] },
      weights: (o) => o.spec.http[0].route.map((r: { weight: number }) => r.weight),
    },
    {
      what: 'SMI TrafficSplit (as served by Linkerd)',
      valid: {
        apiVersion: 'split.smi-spec.io/v1alpha2',
        kind: 'TrafficSplit',
        metadata: { name: 'podinfo', namespace },
        spec: {
          service: 'podinfo',
          backends: [
            { service: 'podinfo-primary', weight: 70 },
            { service: 'podinfo-canary', weight: 30 },
          ],
        },
      },
      invalid: { backends: [{ service: 'podinfo-primary', weight: 'thirty' }] },
      weights: (o) => o.spec.backends.map((b: { weight: number }) => b.weight),
    },
  ];

  for (const { what, valid, invalid, weights } of routerObjects) {
    it(`accepts a valid ${what}, reads it back, and rejects an invalid one by schema`, async () => {
      await objects.create(valid);
      const back = await objects.read({
        apiVersion: valid.apiVersion!,
        kind: valid.kind!,
        metadata: { name: valid.metadata!.name!, namespace },
      });
      expect(weights(back)).toEqual(weights(valid));

      const bad = structuredClone(valid) as any;
      bad.metadata.name = `${valid.metadata!.name}-invalid`;
      if (valid.kind === 'HTTPRoute') bad.spec.rules = [invalid];
      else if (valid.kind === 'VirtualService') bad.spec.http = [invalid];
      else bad.spec.backends = invalid.backends;
      const rejection = await objects.create(bad).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(rejection, `the API server should reject the invalid ${what}`).toBeInstanceOf(
        k8s.ApiException,
      );
      const e = rejection as k8s.ApiException<unknown>;
      expect(e.code).toBe(422);
      expect(String(JSON.stringify(e.body))).toMatch(/Invalid value|must be|should be/);
    });
  }

  describe('with Prometheus scraping a prom-client app', () => {
    let app: MetricsApp;
    let prometheus: PrometheusServer;

    beforeAll(async () => {
      app = await startMetricsApp({ version: 'v1', errorRate: 0.25 });
      prometheus = await startPrometheus({ jobs: [{ job: 'demo-app', targets: [app.target] }] });
    });

    afterAll(async () => {
      await prometheus?.stop();
      await app?.stop();
    });

    it('reads back request counts the app served, through the Prometheus HTTP API', async () => {
      for (let i = 0; i < 40; i++) await fetch(app.url).then((r) => r.text());
      const samples = await waitFor(
        async () => {
          const s = await prometheus.query('sum by (code) (http_requests_total{job="demo-app"})');
          const total = s.reduce((n, x) => n + x.value, 0);
          return total >= 40 ? s : undefined;
        },
        { timeoutMs: 30_000, what: 'Prometheus to scrape 40 requests' },
      );
      const byCode = Object.fromEntries(samples.map((s) => [s.metric.code, s.value]));
      expect(byCode).toEqual({ '200': 30, '500': 10 });
    });
  });
});
