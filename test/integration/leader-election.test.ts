import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { ControllerProcess } from '../harness/controller-process.js';
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

// Given two controller processes with leader election, when the leader is killed
// with SIGKILL in the middle of a release, then the standby takes over within the
// lease duration and finishes the release with no step repeated.
describe('leader election', () => {
  let cluster: Cluster;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const replicas: ControllerProcess[] = [];
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
    await Promise.all(replicas.map((r) => r.stop()));
    await cluster?.stop();
  });

  it('one replica acts; killing it mid-release hands over within the lease duration; no step repeats', async () => {
    for (const name of ['replica-a', 'replica-b']) {
      const r = new ControllerProcess({
        kubeconfig: cluster.kubeconfigPath,
        name,
        time: { scale, epoch },
        logLevel: 'info',
        args: ['--leader-elect', `--leader-election-namespace=${system}`],
      });
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
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}; the replicas' logs:\n${replicas.map((r) => `${r.name}:\n${r.log.slice(-3_000)}`).join('\n')}`,
      );
    });
    const holder = (await lease()).spec!.holderIdentity!;
    const leader = replicas.find((r) => holder.startsWith(`${r.name!}_`))!;
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
        return l.spec?.holderIdentity?.startsWith(`${standby.name!}_`) ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'the standby to take the lease' },
    );
    // In the controllers' (scaled) time: taken over within the lease duration plus two retry
    // periods (the standby sees the last renewal at its next poll, and the expiry at the poll
    // after the lease ran out), plus 5 s for the requests and timers: 250 ms of wall-clock time,
    // scaled. 50 ms was not enough on a loaded CI machine (a handover took 20.3 s there). A
    // replica that waited out two leases, or restarted its count at each poll, still fails.
    const gapMs =
      new Date(after.spec!.acquireTime!).getTime() - new Date(before.spec!.renewTime!).getTime();
    expect(gapMs).toBeLessThanOrEqual((before.spec!.leaseDurationSeconds! + 2 + 2 + 5) * 1000);
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
