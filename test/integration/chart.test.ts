import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as yaml from 'js-yaml';
import type { Canary, CanaryStatus } from '../../src/api/types.js';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createKubeAccess } from '../../src/kube/access.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/logger.js';
import { ContourRouter } from '../../src/routers/contour-router.js';
import { IstioRouter } from '../../src/routers/istio-router.js';
import { LinkerdRouter } from '../../src/routers/linkerd-router.js';
import { ingressReader } from '../../src/routers/ingress-clone-router.js';
import { NginxRouter } from '../../src/routers/nginx-router.js';
import { SkipperRouter } from '../../src/routers/skipper-router.js';
import { ApisixRouter, apisixRouteReader } from '../../src/routers/apisix-router.js';
import { KumaRouter, trafficRouteReader } from '../../src/routers/kuma-router.js';
import { KnativeRouter } from '../../src/routers/knative-router.js';
import { knativeApiVersion, type KnativeService } from '../../src/workloads/knative.js';
import type { Router } from '../../src/routers/router.js';
import { TraefikRouter } from '../../src/routers/traefik-router.js';
import { ManualClock } from '../../src/util/clock.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { helm, renderChart, serviceAccountKubeConfig } from '../harness/helm.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  currentRun,
  readCanary,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const system = 'weir-system';
const team = 'team';

// Given the Helm chart rendered and applied to a real API server, when the
// controller runs with the chart's ServiceAccount (not admin), then it completes a
// release — its RBAC is sufficient — and what it does not need is denied.
describe('the Helm chart', () => {
  let cluster: Cluster;
  let app: App | undefined;
  let sa: k8s.KubeConfig;
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
  });

  it('passes helm lint, with values checked against values.schema.json', async () => {
    expect(await helm(['lint', path.join(repoRoot, 'charts/weir')])).toContain('0 chart(s) failed');
    await expect(renderChart(system, { logLevel: 'loud' })).rejects.toThrow(
      /logLevel.*must be one of/s,
    );
  });

  it('applies to the API server; the controller as the chart’s ServiceAccount completes a release', async () => {
    await cluster.kubectl(['create', 'namespace', system]);
    // replicaCount 0: the pods would be KWOK fakes; the controller runs here, in-process, as the ServiceAccount.
    const rendered = await renderChart(system, { replicaCount: 0, metricsServer: '' });
    await cluster.kubectl([
      'apply',
      '--server-side',
      '-f',
      path.join(repoRoot, 'charts/weir/crds'),
    ]);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], rendered);
    sa = await serviceAccountKubeConfig(cluster, system, 'weir');

    const { objects, apps } = clientsFor(cluster);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: team } });
    await createDeployment(apps, team, 'podinfo', 1);
    const config = parseConfig(
      [
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--leader-elect',
        `--leader-election-namespace=${system}`,
        '--leader-election-id=weir',
      ],
      {},
    )!;
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    app = createApp({
      config,
      kubeConfig: sa,
      logger: createLogger('info', quiet),
      clock,
      identity: 'test-replica',
    });
    await app.start();
    await stepUntil(app, clock, 'the leader role', async () =>
      app!.role === 'leader' ? true : undefined,
    );
    expect(app.ready).toBe(true);

    await createCanary(objects, team, 'podinfo', {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', maxWeight: 20, stepWeight: 10 },
    });
    const phase = async () =>
      ((await readCanary(objects, team, 'podinfo')).status ?? ({} as CanaryStatus)).phase;
    await stepUntil(app, clock, 'Initialized', async () =>
      (await phase()) === 'Initialized' ? true : undefined,
    );
    await setImage(apps, team, 'podinfo', 'example.test/podinfo:2');
    await stepUntil(app, clock, 'Succeeded', async () =>
      (await phase()) === 'Succeeded' ? true : undefined,
    );
    const run = await currentRun(objects, team, 'podinfo');
    expect(run.status?.result).toBe('Promoted');
    // The lease is held by this replica, in the release namespace.
    const lease = await k8s.KubernetesObjectApi.makeApiClient(sa).read({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'weir', namespace: system },
    });
    expect((lease as k8s.V1Lease).spec?.holderIdentity).toBe('test-replica');
  });

  it('denies what Weir does not need', async () => {
    const apps = sa.makeApiClient(k8s.AppsV1Api);
    const core = sa.makeApiClient(k8s.CoreV1Api);
    const rbac = sa.makeApiClient(k8s.RbacAuthorizationV1Api);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: { code?: number }) => e.code,
      );
    expect(await code(apps.deleteNamespacedDeployment({ name: 'podinfo', namespace: team }))).toBe(
      403,
    );
    expect(await code(core.listNamespacedPod({ namespace: team }))).toBe(403);
    expect(await code(core.deleteNamespacedService({ name: 'podinfo', namespace: team }))).toBe(
      403,
    );
    expect(await code(core.deleteNamespacedSecret({ name: 'anything', namespace: team }))).toBe(
      403,
    );
    expect(await code(rbac.listClusterRole())).toBe(403);
    // And what it needs is allowed (a sanity check of the denials above).
    expect(await code(apps.listNamespacedDeployment({ namespace: team }))).toBe(200);
  });

  // The routers each flag enables, and the API group its rule grants.
  const routerFlags = {
    istio: 'networking.istio.io',
    linkerd: 'split.smi-spec.io',
    traefik: 'traefik.io',
    contour: 'projectcontour.io',
    nginx: 'networking.k8s.io',
    skipper: 'networking.k8s.io',
    apisix: 'apisix.apache.org',
    kuma: 'kuma.io',
    knative: 'serving.knative.dev',
  } as const;
  type Flag = keyof typeof routerFlags;
  const chartValues = { replicaCount: 0, metricsServer: '' };

  it('each routers.<name> flag adds the rule of its own router only', async () => {
    const groups = async (set: Record<string, boolean>) => {
      const docs = yaml.loadAll(await renderChart(system, { ...chartValues, ...set })) as {
        kind?: string;
        rules?: { apiGroups: string[] }[];
      }[];
      const role = docs.find((d) => d?.kind === 'ClusterRole')!;
      return new Set(role.rules!.flatMap((r) => r.apiGroups));
    };
    const none = await groups({ 'routers.gatewayapi': false });
    expect(none.has('gateway.networking.k8s.io')).toBe(false);
    expect((await groups({})).has('gateway.networking.k8s.io')).toBe(true);
    for (const [flag, group] of Object.entries(routerFlags)) {
      const added = [...(await groups({ 'routers.gatewayapi': false, [`routers.${flag}`]: true }))];
      expect(added.filter((g) => !none.has(g))).toEqual([group]);
    }
  });

  it('targets.statefulSets adds StatefulSets and the pods a rollback deletes, and the flag that watches them', async () => {
    const render = async (set: Record<string, boolean>) => {
      const docs = yaml.loadAll(await renderChart(system, { ...chartValues, ...set })) as {
        kind?: string;
        rules?: { resources: string[]; verbs: string[] }[];
        spec?: { template: { spec: { containers: { args: string[] }[] } } };
      }[];
      const role = docs.find((d) => d?.kind === 'ClusterRole')!;
      const deployment = docs.find((d) => d?.kind === 'Deployment')!;
      return {
        rules: role.rules!.filter((r) =>
          r.resources.some((x) => ['statefulsets', 'pods', 'pods/eviction'].includes(x)),
        ),
        args: deployment.spec!.template.spec.containers[0]!.args,
      };
    };
    const off = await render({});
    expect(off.rules).toEqual([]);
    expect(off.args).not.toContain('--statefulsets');
    const on = await render({ 'targets.statefulSets': true });
    expect(on.rules.map((r) => [r.resources, r.verbs])).toEqual([
      [['statefulsets'], ['get', 'list', 'watch', 'patch']],
      [['pods'], ['list']],
      [['pods/eviction'], ['create']],
    ]);
    expect(on.args).toContain('--statefulsets');
    expect((await render({ 'routers.knative': true })).args).toContain('--knative');
  });

  it('limits the V8 heap through NODE_OPTIONS, 256 MiB unless heapLimitMiB says otherwise', async () => {
    const env = async (set: Record<string, number>) => {
      const docs = yaml.loadAll(await renderChart(system, { ...chartValues, ...set })) as {
        kind?: string;
        spec?: {
          template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
        };
      }[];
      const deployment = docs.find((d) => d?.kind === 'Deployment')!;
      return deployment.spec!.template.spec.containers[0]!.env.find(
        (e) => e.name === 'NODE_OPTIONS',
      )?.value;
    };
    expect(await env({})).toBe('--max-old-space-size=256');
    expect(await env({ heapLimitMiB: 1024 })).toBe('--max-old-space-size=1024');
    expect(await env({ heapLimitMiB: 0 })).toBeUndefined();
  });

  it('renders the web dashboard only when asked: read-only, its own ServiceAccount reading what the pages show and nothing else', async () => {
    type Doc = {
      kind?: string;
      metadata?: { name?: string };
      rules?: unknown[];
      spec?: {
        selector?: { matchLabels: Record<string, string> };
        template: {
          spec: {
            serviceAccountName: string;
            containers: {
              command: string[];
              args: string[];
              readinessProbe: { httpGet: { path: string } };
              securityContext: { readOnlyRootFilesystem: boolean };
            }[];
          };
        };
      };
    };
    const render = async (set: Record<string, string | number | boolean>) =>
      yaml.loadAll(await renderChart(system, { ...chartValues, ...set })) as Doc[];
    const named = (docs: Doc[]) => docs.filter((d) => d?.metadata?.name === 'weir-dashboard');
    expect(named(await render({}))).toEqual([]);

    const on = named(
      await render({
        'webDashboard.enabled': true,
        'webDashboard.allowedHosts[0]': 'releases.example.com',
      }),
    );
    expect(on.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
    expect(on.find((d) => d.kind === 'ClusterRole')!.rules).toEqual([
      {
        apiGroups: ['weir.dev'],
        resources: ['canaries', 'canaryruns'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
    ]);
    const deployment = on.find((d) => d.kind === 'Deployment')!.spec!;
    const container = deployment.template.spec.containers[0]!;
    expect(deployment.template.spec.serviceAccountName).toBe('weir-dashboard');
    expect(container.command).toEqual(['node', 'dist/weir.mjs']);
    expect(container.args).toEqual([
      'dashboard',
      '--read-only',
      '--address=0.0.0.0',
      '--port=8090',
      '--allowed-host=releases.example.com',
    ]);
    expect(container.readinessProbe.httpGet.path).toBe('/healthz');
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    // The controller's Deployment never selects the dashboard's pods.
    const controller = (await render({ 'webDashboard.enabled': true })).find(
      (d) => d.kind === 'Deployment' && d.metadata?.name === 'weir',
    )!;
    expect(controller.spec!.selector!.matchLabels['app.kubernetes.io/name']).toBe('weir');
    expect(deployment.selector!.matchLabels['app.kubernetes.io/name']).toBe('weir-dashboard');
    // In one namespace, a Role there instead.
    const namespaced = named(await render({ 'webDashboard.enabled': true, watchNamespace: team }));
    expect(namespaced.map((d) => d.kind)).toContain('Role');
    expect(namespaced.map((d) => d.kind)).not.toContain('ClusterRole');
    await expect(render({ 'webDashboard.allowedHosts[0]': 'a b' })).rejects.toThrow(/allowedHosts/);

    // On the API server: the ServiceAccount serves the dashboard and may do nothing else.
    await cluster.kubectl(
      ['apply', '-f', '-'],
      await renderChart(system, { ...chartValues, 'webDashboard.enabled': true }),
    );
    const reader = await serviceAccountKubeConfig(cluster, system, 'weir-dashboard');
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: { code?: number }) => e.code,
      );
    const objects = k8s.KubernetesObjectApi.makeApiClient(reader);
    const core = reader.makeApiClient(k8s.CoreV1Api);
    const custom = reader.makeApiClient(k8s.CustomObjectsApi);
    const weir = { group: 'weir.dev', version: 'v1alpha1' };
    expect(await code(custom.listClusterCustomObject({ ...weir, plural: 'canaries' }))).toBe(200);
    expect(await code(core.listEventForAllNamespaces())).toBe(200);
    expect(
      await code(
        objects.patch(
          {
            apiVersion: 'weir.dev/v1alpha1',
            kind: 'Canary',
            metadata: {
              name: 'podinfo',
              namespace: team,
              annotations: { 'weir.dev/promote': 'x' },
            },
          },
          undefined,
          undefined,
          undefined,
          undefined,
          k8s.PatchStrategy.MergePatch,
        ),
      ),
    ).toBe(403);
    expect(await code(core.listNamespacedSecret({ namespace: system }))).toBe(403);
    expect(await code(custom.listClusterCustomObject({ ...weir, plural: 'metrictemplates' }))).toBe(
      403,
    );
    expect(await code(core.listNamespacedPod({ namespace: team }))).toBe(403);

    const dashboard = await startDashboard({
      kubeConfig: reader,
      readOnly: true,
      logger: createLogger('silent'),
      assets: { 'app.js': '', 'app.css': '' },
    });
    try {
      const rows = (await (await fetch(`${dashboard.url}api/canaries`)).json()) as {
        name: string;
      }[];
      expect(rows.map((r) => r.name)).toContain('podinfo');
      const detail = await fetch(`${dashboard.url}api/canaries/${team}/podinfo`);
      expect(((await detail.json()) as { actions: unknown[] }).actions).toEqual([]);
    } finally {
      await dashboard.close();
    }
  });

  it('lets the ServiceAccount do what each router does once its flag is set, and not before', async () => {
    const { objects } = clientsFor(cluster);
    // The user's Ingress the nginx router reads and clones, routing to the apex Service.
    await objects.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'podinfo', namespace: team },
      spec: {
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'podinfo', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    } as k8s.KubernetesObject);
    // The user's ApisixRoute the apisix router reads and copies.
    await objects.create({
      apiVersion: 'apisix.apache.org/v2',
      kind: 'ApisixRoute',
      metadata: { name: 'podinfo', namespace: team },
      spec: {
        http: [
          {
            name: 'web',
            match: { paths: ['/*'] },
            backends: [{ serviceName: 'podinfo', servicePort: 80 }],
          },
        ],
      },
    } as k8s.KubernetesObject);
    // The user's Knative Service the knative router splits (no Knative controller runs here).
    await objects.create({
      apiVersion: knativeApiVersion,
      kind: 'Service',
      metadata: { name: 'podinfo', namespace: team },
      spec: { template: { spec: { containers: [{ image: 'example.test/podinfo:1' }] } } },
    } as k8s.KubernetesObject);
    const knativeService: KnativeService = {
      metadata: { name: 'podinfo', namespace: team },
      status: {
        latestCreatedRevisionName: 'podinfo-00002',
        latestReadyRevisionName: 'podinfo-00002',
      },
    };
    const stored = await readCanary(objects, team, 'podinfo');
    const canary: Canary = {
      ...stored,
      spec: {
        ...stored.spec,
        ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' },
        routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'podinfo' },
      },
    };
    // Fresh routers as the ServiceAccount, so none remembers an earlier read.
    const routers = (): Record<Flag, Router> => {
      const kube = createKubeAccess(sa);
      return {
        istio: new IstioRouter(kube, sa),
        linkerd: new LinkerdRouter(kube, sa),
        traefik: new TraefikRouter(kube, sa),
        contour: new ContourRouter(kube, sa),
        nginx: new NginxRouter(kube, ingressReader(sa)),
        skipper: new SkipperRouter(kube, ingressReader(sa)),
        apisix: new ApisixRouter(kube, apisixRouteReader(sa)),
        kuma: new KumaRouter(kube, trafficRouteReader(sa)),
        knative: new KnativeRouter(kube, () => knativeService),
      };
    };
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: { code?: number }) => e.code ?? e,
      );

    // The chart's defaults: every one of these routers is refused, before it writes anything.
    for (const [flag, router] of Object.entries(routers())) {
      expect([
        flag,
        await status(router.setRoutes(canary, { canaryWeight: 10, matchToCanary: false })),
      ]).toEqual([flag, 403]);
    }

    await cluster.kubectl(
      ['apply', '-f', '-'],
      await renderChart(system, {
        ...chartValues,
        ...Object.fromEntries(Object.keys(routerFlags).map((f) => [`routers.${f}`, true])),
      }),
    );
    // Each router's whole cycle: create its objects, step them, hand traffic back.
    for (const [flag, router] of Object.entries(routers())) {
      await waitFor(
        async () => (
          await router.setRoutes(canary, { canaryWeight: 10, matchToCanary: false }),
          true
        ),
        { timeoutMs: 30_000, what: `the ${flag} router to be allowed (RBAC propagation)` },
      );
      await router.setRoutes(canary, { canaryWeight: 20, matchToCanary: false });
      await router.finalize(canary);
    }
    // What was written, read back as the admin.
    const read = (apiVersion: string, kind: string, name: string) =>
      objects.read({ apiVersion, kind, metadata: { name, namespace: team } }).then(
        () => true,
        () => false,
      );
    expect(
      await Promise.all([
        read('networking.istio.io/v1', 'VirtualService', 'podinfo'),
        read('networking.istio.io/v1', 'DestinationRule', 'podinfo-canary'),
        read('split.smi-spec.io/v1alpha2', 'TrafficSplit', 'podinfo'),
        read('traefik.io/v1alpha1', 'TraefikService', 'podinfo'),
        read('projectcontour.io/v1', 'HTTPProxy', 'podinfo'),
        read('networking.k8s.io/v1', 'Ingress', 'podinfo-canary'),
        read('apisix.apache.org/v2', 'ApisixRoute', 'podinfo-podinfo-canary'),
        read(knativeApiVersion, 'Service', 'podinfo'),
      ]),
    ).toEqual([true, true, true, true, true, true, true, true]);
    // Kuma's TrafficRoute is cluster-scoped; finalize hands traffic back and keeps it.
    expect(
      await objects
        .read({
          apiVersion: 'kuma.io/v1alpha1',
          kind: 'TrafficRoute',
          metadata: { name: `podinfo.${team}` },
        })
        .then(() => true),
    ).toBe(true);
    // Still nothing beyond what the routers use.
    const networking = sa.makeApiClient(k8s.NetworkingV1Api);
    expect(
      await status(networking.deleteNamespacedIngress({ name: 'podinfo', namespace: team })),
    ).toBe(403);
    expect(await status(networking.listNamespacedIngress({ namespace: team }))).toBe(403);
  });
});
