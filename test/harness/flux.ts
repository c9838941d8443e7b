import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Cluster } from './cluster.js';
import { freePort } from './ports.js';
import { toolPath, toolsDir } from './tools.js';
import { waitFor } from './wait.js';
import { stopChildren } from './children.js';

/** Flux's namespace, where its controllers record events and the demo keeps its sources. */
export const fluxNamespace = 'flux-system';

/** Flux's source-controller and kustomize-controller running against a local cluster. */
export interface Flux {
  /** Log files of the two controllers (JSON lines). */
  readonly logs: { source: string; kustomize: string };
  /**
   * Creates a GitRepository and a Kustomization (health checks on, `wait: true`,
   * pruning on) that apply `path` of `url`'s `main` branch every `interval`.
   */
  sync(options: SyncOptions): Promise<void>;
  /** Asks Flux to reconcile a Kustomization (and its source) now, as `flux reconcile --with-source` does. */
  reconcileNow(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface SyncOptions {
  name: string;
  url: string;
  path: string;
  /** Flux duration, e.g. `5s` (default). */
  interval?: string;
  /** Health-check timeout, e.g. `2m` (default). */
  timeout?: string;
  /** Extra Kustomization spec fields (e.g. `healthCheckExprs`). */
  spec?: Record<string, unknown>;
}

/**
 * Installs Flux's CRDs (from the modules its controllers are built from) and
 * starts source-controller and kustomize-controller as local processes with the
 * cluster's admin kubeconfig. The artifact server listens on loopback. Logs go
 * to files under the cluster's directory.
 */
export async function startFlux(cluster: Cluster): Promise<Flux> {
  const crdDir = path.join(toolsDir(), 'flux-crds');
  await cluster.kubectl([
    'apply',
    '--server-side',
    ...readdirSync(crdDir).flatMap((f) => ['-f', path.join(crdDir, f)]),
  ]);
  await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  await cluster.kubectl(['create', 'namespace', fluxNamespace]).catch(() => undefined);

  const dir = path.join(cluster.dir, 'flux');
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  const [storage, metricsA, healthA, metricsB, healthB] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const children: ChildProcess[] = [];
  const logs = {
    source: path.join(dir, 'source-controller.log'),
    kustomize: path.join(dir, 'kustomize-controller.log'),
  };
  const start = (binary: string, log: string, args: string[]) => {
    const child = spawn(toolPath(binary), args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        KUBECONFIG: cluster.kubeconfigPath,
        RUNTIME_NAMESPACE: fluxNamespace,
        HOME: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(log);
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    children.push(child);
  };
  const common = (metrics: number, health: number) => [
    `--metrics-addr=127.0.0.1:${metrics}`,
    `--health-addr=127.0.0.1:${health}`,
    '--enable-leader-election=false',
    '--watch-all-namespaces=true',
    '--log-level=info',
  ];
  const stop = async () => {
    await stopChildren(children.splice(0));
  };
  try {
    start('source-controller', logs.source, [
      ...common(metricsA, healthA),
      `--storage-path=${path.join(dir, 'artifacts')}`,
      `--storage-addr=127.0.0.1:${storage}`,
      `--storage-adv-addr=127.0.0.1:${storage}`,
      // Keep Helm's caches and OCI credentials out of the way: only Git is used here.
      '--helm-cache-max-size=0',
    ]);
    start('kustomize-controller', logs.kustomize, [
      ...common(metricsB, healthB),
      '--no-remote-bases=true',
      // A commit that approves or aborts a release must not wait behind the health check of
      // the release it acts on (docs/gitops.md recommends the same).
      '--feature-gates=CancelHealthCheckOnNewRevision=true',
    ]);
    for (const [what, port] of [
      ['source-controller', healthA],
      ['kustomize-controller', healthB],
    ] as const)
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok
            ? true
            : undefined,
        { timeoutMs: 60_000, what: `${what} to be ready` },
      );
  } catch (err) {
    await stop();
    throw err;
  }

  const requestedAt = () => new Date().toISOString();
  return {
    logs,
    async sync({ name, url, path: sourcePath, interval = '5s', timeout = '2m', spec = {} }) {
      const objects = [
        {
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          kind: 'GitRepository',
          metadata: { name, namespace: fluxNamespace },
          spec: { url, interval, ref: { branch: 'main' }, timeout: '20s' },
        },
        {
          apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
          kind: 'Kustomization',
          metadata: { name, namespace: fluxNamespace },
          spec: {
            interval,
            retryInterval: interval,
            timeout,
            path: sourcePath,
            prune: true,
            wait: true,
            sourceRef: { kind: 'GitRepository', name },
            ...spec,
          },
        },
      ];
      await cluster.kubectl(
        ['apply', '--server-side', '-f', '-'],
        objects.map((o) => JSON.stringify(o)).join('\n'),
      );
    },
    async reconcileNow(name) {
      const at = requestedAt();
      for (const kind of ['gitrepository', 'kustomization'])
        await cluster.kubectl([
          'annotate',
          '--overwrite',
          '-n',
          fluxNamespace,
          kind,
          name,
          `reconcile.fluxcd.io/requestedAt=${at}`,
        ]);
    },
    stop,
  };
}
