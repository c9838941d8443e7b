/**
 * Weir's main job on an embedded default: brings up the local control plane
 * (KWOK nodes, router CRDs), a real Prometheus and the Weir controller against
 * them, prints how to reach everything, and tears it all down on Ctrl-C.
 *
 * Usage: hack/demo.sh [--exit-after SECONDS]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster } from '../test/harness/cluster.js';
import { freePort } from '../test/harness/ports.js';
import { startPrometheus } from '../test/harness/prometheus.js';
import { repoRoot, toolPath } from '../test/harness/tools.js';
import { waitFor } from '../test/harness/wait.js';

const { values } = parseArgs({ options: { 'exit-after': { type: 'string' } } });
const exitAfterMs = values['exit-after'] ? Number(values['exit-after']) * 1000 : undefined;
const say = (msg: string) => console.log(`weir-demo: ${msg}`);
const cleanups: (() => Promise<void>)[] = [];
let stopping: Promise<void> | undefined;

async function stopAll(reason: string): Promise<void> {
  stopping ??= (async () => {
    say(`${reason}: stopping everything ...`);
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((e: unknown) => say(`cleanup failed: ${String(e)}`));
    say('stopped; nothing left running');
  })();
  return stopping;
}
// If the terminal or a pipe reading our output goes away first (Ctrl-C hits the
// whole pipeline), writes fail with EPIPE; clean-up must still run to the end.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
process.on('SIGINT', () => void stopAll('Ctrl-C').then(() => process.exit(0)));
process.on('SIGTERM', () => void stopAll('SIGTERM').then(() => process.exit(0)));

const t0 = Date.now();
say('starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, KWOK) ...');
const cluster = await startCluster({ nodes: 3 });
cleanups.push(() => cluster.stop());
say(`cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${cluster.runtime} runtime)`);
await cluster.kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds')]);
await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
say('installed the Weir CRDs (crds/)');

const metricsPort = await freePort();
const probePort = await freePort();
say('starting the Weir controller ...');
const controller = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    path.join(repoRoot, 'src/main.ts'),
    `--kubeconfig=${cluster.kubeconfigPath}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
  ],
  { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] },
);
const controllerExited = new Promise<void>((resolve) => controller.once('exit', () => resolve()));
cleanups.push(async () => {
  if (controller.exitCode === null) controller.kill('SIGTERM');
  await controllerExited;
});
await waitFor(
  async () =>
    (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok
      ? true
      : undefined,
  { timeoutMs: 60_000, what: 'the controller to be ready' },
);

say('starting Prometheus, scraping the controller ...');
const prometheus = await startPrometheus({
  jobs: [{ job: 'weir', targets: [`127.0.0.1:${metricsPort}`] }],
  scrapeIntervalSeconds: 5,
});
cleanups.push(() => prometheus.stop());

console.log(`
Weir is running against a local cluster. Try:

  export KUBECONFIG=${cluster.kubeconfigPath}
  ${toolPath('kubectl')} get nodes
  curl -s http://127.0.0.1:${metricsPort}/metrics | grep weir_build_info

  Kubernetes API   ${cluster.server}
  Prometheus       ${prometheus.url}
  Weir /metrics    http://127.0.0.1:${metricsPort}/metrics
  Weir /readyz     http://127.0.0.1:${probePort}/readyz

Press Ctrl-C to stop everything.`);
say('ready');

if (exitAfterMs !== undefined) {
  setTimeout(() => void stopAll('--exit-after elapsed').then(() => process.exit(0)), exitAfterMs);
}
