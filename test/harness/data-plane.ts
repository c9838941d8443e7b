import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { podCidr, type Cluster } from './cluster.js';
import {
  netnsRuntime,
  startNetworkNamespace,
  type NetnsProcess,
  type NetworkNamespace,
} from './netns.js';
import { PodRunner, type PodEvent } from './pod-runner.js';
import { startPrometheus, type PrometheusServer, type ScrapeJob } from './prometheus.js';
import { toolPath } from './tools.js';
import { waitFor } from './wait.js';

/** The GatewayClass Traefik programs. */
export const gatewayClassName = 'traefik';
/** The port of the Gateway listener (and Traefik's entry point) inside the namespace. */
export const gatewayPort = 80;
const dataPlaneNamespace = 'weir-data-plane';
const traefikInternal = '127.0.0.1:9100';

/** Options for {@link startDataPlane}. */
export interface DataPlaneOptions {
  /** Host loopback scrape targets for Prometheus besides Traefik and the pods (e.g. Weir). */
  hostJobs?: ScrapeJob[];
  /** Scrape interval in seconds (default 1). */
  scrapeIntervalSeconds?: number;
  /** Also run Traefik's Kubernetes CRD provider (TraefikService, IngressRoute). */
  crdProvider?: boolean;
  onPodEvent?: (e: PodEvent) => void;
}

/**
 * A real data plane for a local cluster started with `podRunner: true`: a network
 * namespace holding the pod network, where the pods run as processes on their pod
 * IPs (PodRunner), Traefik implements the Gateway API (and, if asked, its own CRDs)
 * from the real API server with a least-privilege ServiceAccount, and Prometheus
 * scrapes the pods (as Kubernetes discovery would find them) and Traefik.
 */
export interface DataPlane {
  readonly ns: NetworkNamespace;
  /** The Gateway's HTTP entry, from the host: http://127.0.0.1:<port> */
  readonly gatewayUrl: string;
  /** Traefik's Prometheus metrics, from the host. */
  readonly traefikMetricsUrl: string;
  readonly prometheus: PrometheusServer;
  readonly logDir: string;
  /** Requests Traefik counted per service and status code, from its own metrics. */
  serviceRequests(): Promise<Record<string, Record<string, number>>>;
  /**
   * The weights Traefik applies now, per weighted service: { wrr service: { backend: { weight,
   * servers } } }, backend names without the provider suffix (e.g. `shop-frontend-canary-http-80`).
   * `servers` counts the endpoints Traefik sends the backend to: 0 (it answers 503) until it has
   * read them, which may be a reload after the weights.
   */
  appliedWeights(): Promise<Record<string, Record<string, { weight: number; servers: number }>>>;
  stop(): Promise<void>;
}

export async function startDataPlane(
  cluster: Cluster,
  options: DataPlaneOptions = {},
): Promise<DataPlane> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const logDir = mkdtempSync(path.join(tmpdir(), 'weir-data-plane-'));
    cleanups.push(async () => rmSync(logDir, { recursive: true, force: true }));
    const ns = await startNetworkNamespace({ cidr: podCidr });
    cleanups.push(() => ns.stop());
    await ns.reachHost(Number(new URL(cluster.server).port));
    for (const job of options.hostJobs ?? [])
      for (const t of job.targets) await ns.reachHost(Number(t.split(':').at(-1)));

    await cluster.kubectl(
      ['apply', '--server-side', '-f', '-'],
      rbac(options.crdProvider ?? false),
    );
    const ca = await readFile(path.join(cluster.dir, 'ca.crt'), 'utf8');
    const kubeconfigFor = async (sa: string) => {
      const token = (
        await cluster.kubectl(['create', 'token', sa, '-n', dataPlaneNamespace, '--duration=24h'])
      ).trim();
      const file = path.join(logDir, `${sa}.kubeconfig`);
      writeFileSync(file, tokenKubeconfig(cluster.server, ca, token), { mode: 0o600 });
      return file;
    };

    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const targetsFile = path.join(logDir, 'pod-targets.json');
    const runner = new PodRunner({
      kubeConfig,
      ns,
      logDir,
      targetsFile,
      ...(options.onPodEvent ? { onEvent: options.onPodEvent } : {}),
    });
    await runner.start();
    cleanups.push(() => runner.stop());

    const traefik: NetnsProcess = await ns.spawn(toolPath('traefik'), traefikArgs(options), {
      env: { KUBECONFIG: await kubeconfigFor('traefik') },
      logFile: path.join(logDir, 'traefik.log'),
    });
    cleanups.push(() => traefik.stop(5_000));
    await waitFor(
      async () => ((await ns.httpGet(`http://${traefikInternal}/ping`)) === 200 ? true : undefined),
      {
        timeoutMs: 30_000,
        what: `Traefik to answer /ping (log: ${path.join(logDir, 'traefik.log')})`,
      },
    );

    const prometheus = await startPrometheus({
      runtime: netnsRuntime(ns),
      scrapeIntervalSeconds: options.scrapeIntervalSeconds ?? 1,
      jobs: [{ job: 'traefik', targets: [traefikInternal] }, ...(options.hostJobs ?? [])],
      scrapeConfigs: [podScrapeConfig(targetsFile)],
    });
    cleanups.push(() => prometheus.stop());

    const gatewayUrl = `http://127.0.0.1:${await ns.expose('127.0.0.1', gatewayPort)}`;
    const internal = `http://127.0.0.1:${await ns.expose('127.0.0.1', 9100)}`;
    const traefikMetricsUrl = `${internal}/metrics`;
    return {
      ns,
      gatewayUrl,
      traefikMetricsUrl,
      prometheus,
      logDir,
      async serviceRequests() {
        const text = await (
          await fetch(traefikMetricsUrl, { signal: AbortSignal.timeout(5_000) })
        ).text();
        return parseServiceRequests(text);
      },
      async appliedWeights() {
        const res = await fetch(`${internal}/api/http/services`, {
          signal: AbortSignal.timeout(5_000),
        });
        const services = (await res.json()) as {
          name: string;
          weighted?: { services?: { name: string; weight?: number }[] };
          loadBalancer?: { servers?: unknown[] };
        }[];
        const strip = (n: string) => n.replace(/@[a-z]+$/, '');
        const servers = new Map(
          services.map((s) => [strip(s.name), s.loadBalancer?.servers?.length ?? 0]),
        );
        return Object.fromEntries(
          services
            .filter((s) => s.weighted?.services)
            .map((s) => [
              strip(s.name),
              Object.fromEntries(
                s.weighted!.services!.map((b) => [
                  strip(b.name),
                  { weight: b.weight ?? 1, servers: servers.get(strip(b.name)) ?? 0 },
                ]),
              ),
            ]),
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `traefik_service_requests_total` summed per service and code. */
export function parseServiceRequests(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('traefik_service_requests_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const service = labels.service ?? '';
    const code = labels.code ?? '';
    (out[service] ??= {})[code] = (out[service][code] ?? 0) + value;
  }
  return out;
}

function traefikArgs(options: DataPlaneOptions): string[] {
  return [
    `--entryPoints.web.address=:${gatewayPort}`,
    `--entryPoints.traefik.address=${traefikInternal}`,
    '--ping=true',
    // Traefik's API (read-only, inside the namespace): what it has applied, for tests to wait on.
    '--api.insecure=true',
    '--ping.entryPoint=traefik',
    '--metrics.prometheus=true',
    '--metrics.prometheus.entryPoint=traefik',
    '--metrics.prometheus.addServicesLabels=true',
    '--metrics.prometheus.buckets=0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5',
    '--providers.kubernetesgateway=true',
    ...(options.crdProvider ? ['--providers.kubernetescrd=true'] : []),
    // Nothing leaves the namespace: no update check, no usage report.
    '--global.checkNewVersion=false',
    '--global.sendAnonymousUsage=false',
    '--log.level=INFO',
  ];
}

/**
 * Pods that ask for it (prometheus.io/scrape), labelled with their namespace and name.
 * Debian's Prometheus is built without Kubernetes discovery, so the pod runner writes
 * what it would find (the pods it runs) to a file Prometheus watches.
 */
function podScrapeConfig(targetsFile: string): Record<string, unknown> {
  return {
    job_name: 'pods',
    file_sd_configs: [{ files: [targetsFile], refresh_interval: '5s' }],
  };
}

function tokenKubeconfig(server: string, ca: string, token: string): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'local',
        cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') },
      },
    ],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'sa' } }],
    'current-context': 'local',
  });
}

/** Traefik's ServiceAccount with what it reads and writes, and the GatewayClass. */
function rbac(crdProvider: boolean): string {
  const read = ['get', 'list', 'watch'];
  const gatewayKinds = [
    'gatewayclasses',
    'gateways',
    'httproutes',
    'grpcroutes',
    'referencegrants',
    'backendtlspolicies',
  ];
  const traefikRules = [
    {
      apiGroups: [''],
      resources: ['namespaces', 'services', 'secrets', 'configmaps'],
      verbs: read,
    },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
    { apiGroups: ['gateway.networking.k8s.io'], resources: gatewayKinds, verbs: read },
    {
      apiGroups: ['gateway.networking.k8s.io'],
      resources: gatewayKinds.map((k) => `${k}/status`),
      verbs: ['update', 'patch'],
    },
    ...(crdProvider
      ? [
          { apiGroups: ['traefik.io'], resources: ['*'], verbs: read },
          {
            apiGroups: ['networking.k8s.io'],
            resources: ['ingresses', 'ingressclasses'],
            verbs: read,
          },
          { apiGroups: [''], resources: ['endpoints', 'nodes'], verbs: read },
        ]
      : []),
  ];
  const objects: Record<string, unknown>[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: dataPlaneNamespace } },
  ];
  const account = (name: string, rules: Record<string, unknown>[]) => {
    objects.push(
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name, namespace: dataPlaneNamespace },
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `weir-data-plane-${name}` },
        rules,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `weir-data-plane-${name}` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `weir-data-plane-${name}`,
        },
        subjects: [{ kind: 'ServiceAccount', name, namespace: dataPlaneNamespace }],
      },
    );
  };
  account('traefik', traefikRules);
  objects.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: gatewayClassName },
    spec: { controllerName: 'traefik.io/gateway-controller' },
  });
  return objects.map((o) => yaml.dump(o)).join('---\n');
}
