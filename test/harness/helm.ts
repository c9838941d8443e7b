import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster.js';
import { repoRoot, toolPath, versions } from './tools.js';

const run = promisify(execFile);

/** Runs the pinned helm and returns its stdout. */
export async function helm(args: string[]): Promise<string> {
  return (await run(toolPath('helm'), args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** Renders charts/weir with `--set` values for the local cluster's Kubernetes version. */
export function renderChart(
  namespace: string,
  set: Record<string, string | number | boolean> = {},
) {
  return helm([
    'template',
    'weir',
    path.join(repoRoot, 'charts/weir'),
    '--namespace',
    namespace,
    '--kube-version',
    versions.kubernetes.replace(/^v/, ''),
    ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ]);
}

/**
 * A kubeconfig that authenticates as a ServiceAccount, with a token from the
 * TokenRequest API (as a pod would get one), not as the admin.
 */
export async function serviceAccountKubeConfig(
  cluster: Cluster,
  namespace: string,
  serviceAccount: string,
): Promise<k8s.KubeConfig> {
  const token = (
    await cluster.kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h'])
  ).trim();
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(cluster.kubeconfigPath);
  const c = admin.getCurrentCluster()!;
  // Embed the CA, so the kubeconfig stands alone (e.g. mounted into a container).
  const caData = c.caData ?? (c.caFile ? readFileSync(c.caFile).toString('base64') : undefined);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'local', server: c.server, ...(caData ? { caData } : {}), skipTLSVerify: false },
    ],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: 'sa', cluster: 'local', user: serviceAccount }],
    currentContext: 'sa',
  });
  return kc;
}
