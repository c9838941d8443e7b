import * as k8s from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { startCluster, type Cluster } from '../../test/harness/cluster.js';
import { startPrometheus, type PrometheusServer } from '../../test/harness/prometheus.js';
import { selectRuntime } from '../../test/harness/runtime.js';
import { repoRoot } from '../../test/harness/tools.js';
import { auditPolicy } from './audit.js';
import { startPodExporter, type PodExporter } from './exporter.js';
import type { ScaleOptions } from './options.js';
import { canaryAt, podsOf } from './workload.js';

/** Namespace of the controller's ServiceAccount (and of the Gateway the routes name). */
export const systemNamespace = 'weir-bench-system';
/** The controller authenticates as this ServiceAccount, so the audit log can tell its requests apart. */
export const controllerUser = `system:serviceaccount:${systemNamespace}:controller`;

/** Flags given to the other components so that they are not the bottleneck. */
export function componentSettings(options: Pick<ScaleOptions, 'kubeApiQps' | 'kubeApiBurst'>) {
  return {
    clientRateLimit: { qps: options.kubeApiQps, burst: options.kubeApiBurst },
    kubeControllerManager: [
      '--concurrent-deployment-syncs=50',
      '--concurrent-replicaset-syncs=50',
      '--concurrent-gc-syncs=50',
    ],
    kwok: 'no client-side rate limit (KWOK always uses an unlimited rate limiter)',
    kubeApiserver:
      'default --max-requests-inflight=400, --max-mutating-requests-inflight=200, APF on',
  };
}

/** A cluster with the controller's CRDs, its identity, an exporter and Prometheus. */
export interface Environment {
  cluster: Cluster;
  prometheus: PrometheusServer;
  exporter: PodExporter;
  /** Kubeconfig of the controller's ServiceAccount (cluster-admin). */
  controllerKubeconfig: string;
  /** The bench's own (admin) clients. */
  kubeConfig: k8s.KubeConfig;
  stop(): Promise<void>;
}

/**
 * Starts everything a run needs except the controller. On failure, whatever was
 * started is stopped before the error is rethrown.
 */
export async function startEnvironment(n: number, options: ScaleOptions): Promise<Environment> {
  const settings = componentSettings(options);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const cluster = await startCluster({
      runtime: selectRuntime(process.env.WEIR_HARNESS_RUNTIME ?? 'process'),
      // Primaries plus canaries during a release fit on one node; three share them.
      nodes: 3,
      podsPerNode: Math.max(5000, 2 * n),
      clientRateLimit: settings.clientRateLimit,
      extraArgs: { 'kube-controller-manager': settings.kubeControllerManager },
      ...(options.audit ? { auditPolicy: auditPolicy(controllerUser) } : {}),
      timeoutMs: 300_000,
    });
    stops.push(() => cluster.stop());

    const crds =
      options.crds.length > 0
        ? options.crds
        : readdirSync(path.join(repoRoot, 'crds')).map((f) => path.join(repoRoot, 'crds', f));
    await cluster.kubectl(['apply', '--server-side', ...crds.flatMap((f) => ['-f', f])]);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      'crd',
      '--all',
      '--timeout=120s',
    ]);

    await cluster.kubectl(
      ['apply', '-f', '-'],
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: systemNamespace } },
        {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'controller', namespace: systemNamespace },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'weir-bench-controller' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'cluster-admin',
          },
          subjects: [{ kind: 'ServiceAccount', name: 'controller', namespace: systemNamespace }],
        },
      ]
        .map((o) => yaml.dump(o))
        .join('---\n'),
    );
    const token = (
      await cluster.kubectl([
        'create',
        'token',
        'controller',
        '-n',
        systemNamespace,
        '--duration=48h',
      ])
    ).trim();
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const server = kubeConfig.getCurrentCluster()!;
    const controllerKubeconfig = path.join(cluster.dir, 'controller.kubeconfig');
    await writeFile(
      controllerKubeconfig,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'bench',
            cluster: { server: server.server, 'certificate-authority-data': server.caData },
          },
        ],
        users: [{ name: 'controller', user: { token } }],
        contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'controller' } }],
        'current-context': 'bench',
      }),
      { mode: 0o600 },
    );

    const pods = Array.from({ length: n }, (_, i) => {
      const { namespace, name } = canaryAt(i, options.namespaces);
      const p = podsOf(name);
      return [
        { namespace, pod: p.canary },
        { namespace, pod: p.primary },
      ];
    }).flat();
    const exporter = await startPodExporter(pods);
    stops.push(() => exporter.stop());
    const prometheus = await startPrometheus({
      jobs: [{ job: 'apps', targets: [exporter.target] }],
      scrapeIntervalSeconds: 10,
      runtime: selectRuntime(process.env.WEIR_HARNESS_RUNTIME ?? 'process'),
    });
    stops.push(() => prometheus.stop());
    return { cluster, prometheus, exporter, controllerKubeconfig, kubeConfig, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
