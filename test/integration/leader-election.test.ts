import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { freePort } from '../harness/ports.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  endedRun,
  installWeirCrds,
  readCanary,
  setImage,
} from '../harness/weir.js';

const namespace = 'ha';
const system = 'weir-system';
const scale = 20; // a 15 s lease lasts 0.75 s of wall-clock time; 10 s steps take 0.5 s
const epoch = Date.now();

/** One controller replica as a real process, with leader election on. */
class Replica {
  child: ChildProcess | undefined;
  metricsPort = 0;
  log = '';
  constructor(
    readonly name: string,
    private readonly kubeconfig: string,
  ) {}

  async start(): Promise<void> {
    const probe = await freePort();
    this.metricsPort = await freePort();
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'src/main.ts'),
        `--kubeconfig=${this.kubeconfig}`,
        `--metrics-bind-address=127.0.0.1:${this.metricsPort}`,
        `--health-probe-bind-address=127.0.0.1:${probe}`,
        '--log-level=info',
        '--leader-elect',
        `--leader-election-namespace=${system}`,
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          POD_NAME: this.name,
          WEIR_TEST_TIME_SCALE: String(scale),
          WEIR_TEST_TIME_EPOCH: String(epoch),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.ok
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 50, what: `replica ${this.name} to be ready` },
    );
  }

  /** How many reconciles this replica has run. */
  async reconciles(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    return Number(/^weir_reconcile_duration_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

// Given two controller processes with leader election, when the leader is killed
// with SIGKILL in the middle of a release, then the standby takes over within the
// lease duration and finishes the release with no step repeated.
describe('leader election', () => {
  let cluster: Cluster;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const replicas: Replica[] = [];
  const lease = async () =>
    (await objects.read({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'weir-controller', namespace: system },
    })) as k8s.V1Lease;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    for (const ns of [namespace, system])
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await createDeployment(apps, namespace, 'web', 1);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill()));
    await cluster?.stop();
  });

  it('one replica acts; killing it mid-release hands over within the lease duration; no step repeats', async () => {
    for (const name of ['replica-a', 'replica-b']) {
      const r = new Replica(name, cluster.kubeconfigPath);
      replicas.push(r);
      await r.start();
    }
    await createCanary(objects, namespace, 'web', {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', maxWeight: 60, stepWeight: 10 },
    });
    const phase = async () => (await readCanary(objects, namespace, 'web')).status?.phase;
    await waitFor(async () => ((await phase()) === 'Initialized' ? true : undefined), {
      timeoutMs: 60_000,
      what: 'Initialized',
    });
    const holder = (await lease()).spec!.holderIdentity!;
    const leader = replicas.find((r) => holder.startsWith(`${r.name}_`))!;
    const standby = replicas.find((r) => r !== leader)!;
    expect(leader, `lease held by ${holder}`).toBeDefined();
    expect(await leader.reconciles()).toBeGreaterThan(0);
    expect(await standby.reconciles()).toBe(0);

    await setImage(apps, namespace, 'web', 'example.test/web:2');
    await waitFor(
      async () =>
        (await readCanary(objects, namespace, 'web')).status?.canaryWeight === 20
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 20, what: 'weight 20' },
    );
    const before = await lease();
    await leader.kill();
    const after = await waitFor(
      async () => {
        const l = await lease();
        return l.spec?.holderIdentity?.startsWith(`${standby.name}_`) ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'the standby to take the lease' },
    );
    // In the controllers' (scaled) time: taken over within the lease duration plus one retry period.
    const gapMs =
      new Date(after.spec!.acquireTime!).getTime() - new Date(before.spec!.renewTime!).getTime();
    expect(gapMs).toBeLessThanOrEqual((before.spec!.leaseDurationSeconds! + 2 + 2) * 1000);
    expect(after.spec!.leaseTransitions).toBe((before.spec!.leaseTransitions ?? 0) + 1);

    await waitFor(async () => ((await phase()) === 'Succeeded' ? true : undefined), {
      timeoutMs: 120_000,
      what: `Succeeded; the new leader's log:\n${standby.log}`,
    });
    const run = await endedRun(objects, namespace, 'web');
    const steps = run
      .status!.transitions!.filter((t) => t.reason === 'StepAdvanced')
      .map((t) => t.weight);
    expect(steps).toEqual([10, 20, 30, 40, 50, 60]);
    expect(run.status!.transitions!.filter((t) => t.reason === 'Succeeded')).toHaveLength(1);
    expect(await standby.reconciles()).toBeGreaterThan(0);
  });
});
