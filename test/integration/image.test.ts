import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { renderChart, serviceAccountKubeConfig } from '../harness/helm.js';
import { freePort } from '../harness/ports.js';
import { ownerLabel } from '../harness/runtime.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  endedRun,
  readCanary,
  setImage,
} from '../harness/weir.js';

const run = promisify(execFile);
const docker = (...args: string[]) => run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
const containerRuntime = (process.env.WEIR_HARNESS_RUNTIME ?? 'container') === 'container';
const system = 'weir-system';
const namespace = 'images';

// Given the image built here from the Dockerfile (on the local Node base), when it
// runs as a container with host networking, the chart's ServiceAccount, a
// read-only root filesystem and no capabilities, then it completes a release.
describe.skipIf(!containerRuntime)('the controller image', () => {
  let cluster: Cluster;
  let image: string;
  let container: string | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-image-'));

  beforeAll(async () => {
    image = (
      await run(path.join(repoRoot, 'hack/build-weir-image.sh'), [], {
        cwd: repoRoot,
        timeout: 600_000,
      })
    ).stdout.trim();
    cluster = await startCluster({ nodes: 1 });
    await cluster.kubectl(['create', 'namespace', system]);
    await cluster.kubectl([
      'apply',
      '--server-side',
      '-f',
      path.join(repoRoot, 'charts/weir/crds'),
    ]);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await cluster.kubectl(
      ['apply', '-f', '-'],
      await renderChart(system, {
        replicaCount: 0,
        metricsServer: '',
        'webDashboard.enabled': true,
      }),
    );
  }, 900_000);
  afterAll(async () => {
    if (container) await docker('rm', '-f', container).catch(() => undefined);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as non-root and completes a release', async () => {
    const { objects, apps } = clientsFor(cluster);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await createDeployment(apps, namespace, 'shop', 1);
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      (await serviceAccountKubeConfig(cluster, system, 'weir')).exportConfig(),
    );
    chmodSync(kubeconfig, 0o644);
    const probe = await freePort();
    const metrics = await freePort();
    container = (
      await docker(
        'run',
        '-d',
        '--pull=never',
        '--network=host',
        '--read-only',
        '--cap-drop=ALL',
        '--security-opt=no-new-privileges',
        `--label=${ownerLabel}=${process.pid}`,
        '-v',
        `${kubeconfig}:/etc/weir/kubeconfig:ro`,
        image,
        '--kubeconfig=/etc/weir/kubeconfig',
        `--metrics-bind-address=127.0.0.1:${metrics}`,
        `--health-probe-bind-address=127.0.0.1:${probe}`,
        '--leader-elect',
        `--leader-election-namespace=${system}`,
        '--leader-election-id=weir',
      )
    ).stdout.trim();
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.ok
          ? true
          : undefined,
      {
        timeoutMs: 60_000,
        what: `the container to be ready; its log:\n${(await docker('logs', container).catch(() => ({ stdout: '' }))).stdout}`,
      },
    );
    const user = (await docker('inspect', '-f', '{{.Config.User}}', container)).stdout.trim();
    expect(user).toBe('65532:65532');
    expect((await docker('top', container, '-o', 'pid,uid,comm')).stdout).toMatch(/\s65532\s+node/);

    await createCanary(objects, namespace, 'shop', {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', maxWeight: 20, stepWeight: 10 },
    });
    const phase = async () => (await readCanary(objects, namespace, 'shop')).status?.phase;
    await waitFor(async () => ((await phase()) === 'Initialized' ? true : undefined), {
      timeoutMs: 60_000,
      what: 'Initialized',
    });
    await setImage(apps, namespace, 'shop', 'example.test/shop:2');
    // Real time inside the container: 10 s steps, two of them, then promotion.
    await waitFor(async () => ((await phase()) === 'Succeeded' ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'Succeeded',
    });
    const runObj = await endedRun(objects, namespace, 'shop');
    expect(runObj.status?.result).toBe('Promoted');
    const body = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    expect(body).toMatch(/weir_canary_releases_total\{result="Promoted"\} 1/);
  });

  it('serves the dashboard with the assets built into the image (no esbuild at run time)', async () => {
    // As the chart runs it: the dashboard's own read-only ServiceAccount.
    const kubeconfig = path.join(dir, 'dashboard-kubeconfig');
    writeFileSync(
      kubeconfig,
      (await serviceAccountKubeConfig(cluster, system, 'weir-dashboard')).exportConfig(),
    );
    chmodSync(kubeconfig, 0o644);
    const port = await freePort();
    const dashboard = (
      await docker(
        'run',
        '-d',
        '--pull=never',
        '--network=host',
        '--read-only',
        '--cap-drop=ALL',
        '--security-opt=no-new-privileges',
        `--label=${ownerLabel}=${process.pid}`,
        '-v',
        `${kubeconfig}:/etc/weir/kubeconfig:ro`,
        '--entrypoint',
        'node',
        image,
        'dist/weir.mjs',
        'dashboard',
        '--read-only',
        '--kubeconfig=/etc/weir/kubeconfig',
        `--port=${port}`,
      )
    ).stdout.trim();
    try {
      const page = await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/app.js`).catch(() => undefined)) ?? undefined,
        { timeoutMs: 60_000, what: 'the dashboard in the image to answer' },
      ).catch(async (err: Error) => {
        const logs = await docker('logs', dashboard).catch(() => ({ stdout: '', stderr: '' }));
        throw new Error(`${err.message}; its log:\n${logs.stdout}${logs.stderr}`);
      });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/javascript');
      expect((await page.text()).length).toBeGreaterThan(10_000);
      const rows = (await (await fetch(`http://127.0.0.1:${port}/api/canaries`)).json()) as {
        name: string;
      }[];
      expect(rows.map((r) => r.name)).toContain('shop');
      expect(
        (
          await docker(
            'exec',
            dashboard,
            'node',
            '-e',
            'import("esbuild").then(()=>console.log("present"),()=>console.log("absent"))',
          )
        ).stdout.trim(),
      ).toBe('absent');
    } finally {
      await docker('rm', '-f', dashboard).catch(() => undefined);
    }
  });
});
