import type * as k8s from '@kubernetes/client-node';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { ControllerProcess } from '../harness/controller-process.js';
import { promotedTimeline } from '../harness/fault-testbed.js';
import { startStallProxy, type StallProxy } from '../harness/stall-proxy.js';
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

const namespace = 'ha-faults';
const system = 'weir-system';

/** Every successful write the API server received, from its audit log. */
interface Write {
  at: number;
  agent: string;
  verb: string;
  resource: string;
}

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete]
  - level: None
`;

// Given two controller replicas with leader election, the leader reaching the API
// server through a path that stalls, when that path stalls in the middle of a
// release, then the leader stops acting within its renew deadline, the standby
// takes over once the lease has expired, and the API server's audit log shows no
// write of the old leader after the new leader's first: never two leaders at once.
describe('leader election while the leader’s path to the API server stalls', () => {
  let cluster: Cluster;
  let proxy: StallProxy;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const replicas: ControllerProcess[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 1,
      auditPolicy,
      // Written as each request completes: the test reads the log right after.
      extraArgs: { 'kube-apiserver': ['--audit-log-mode=blocking'] },
    });
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    for (const ns of [namespace, system])
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await createDeployment(apps, namespace, 'web', 2);
    proxy = await startStallProxy(new URL(cluster.server).host);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy?.stop();
    await cluster?.stop();
  });

  it('stops the stalled leader before the standby takes over; no write of it lands after', async () => {
    // Replica a talks to the API server through the proxy; b directly.
    const config = yaml.load(await readFile(cluster.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    config.clusters[0]!.cluster.server = `https://${proxy.address}`;
    const viaProxy = path.join(cluster.dir, 'via-proxy.kubeconfig');
    await writeFile(viaProxy, yaml.dump(config), { mode: 0o600 });
    const replica = (name: string, kubeconfig: string) =>
      new ControllerProcess({
        kubeconfig,
        name,
        logLevel: 'info',
        args: ['--leader-elect', `--leader-election-namespace=${system}`],
      });
    const a = replica('replica-a', viaProxy);
    const b = replica('replica-b', cluster.kubeconfigPath);
    replicas.push(a, b);
    const holder = async () =>
      (
        (await objects.read({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'weir-controller', namespace: system },
        })) as k8s.V1Lease
      ).spec?.holderIdentity ?? '';
    await a.start();
    await waitFor(async () => ((await holder()).startsWith('replica-a_') ? true : undefined), {
      timeoutMs: 30_000,
      what: 'replica-a to lead',
    });
    await b.start();

    await createCanary(objects, namespace, 'web', {
      provider: 'gatewayapi',
      analysis: { interval: '10s', threshold: 2, stepWeight: 20, maxWeight: 60 },
    });
    const status = async () => (await readCanary(objects, namespace, 'web')).status;
    await waitFor(async () => ((await status())?.phase === 'Initialized' ? true : undefined), {
      timeoutMs: 60_000,
      what: 'Initialized',
    });
    await setImage(apps, namespace, 'web', 'example.test/web:2');
    await waitFor(async () => ((await status())?.canaryWeight === 20 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'weight 20',
    });

    const stalledAt = Date.now();
    proxy.stall();
    await waitFor(async () => ((await holder()).startsWith('replica-b_') ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `replica-b to take over; replica-b's log:\n${b.log}`,
    });
    // Let what replica a sent during the stall through, once b leads, had a still
    // held it: a leader that did not stop would now write beside the new one.
    await new Promise((r) => setTimeout(r, Math.max(0, stalledAt + 25_000 - Date.now())));
    proxy.resume();
    // Replica a gave leadership up and exited, to come back as a standby.
    expect(await a.exited(30_000), `replica-a's exit code; its log:\n${a.log}`).toBe(1);

    await waitFor(
      async () => {
        const s = await status();
        return s?.phase === 'Succeeded' && s.lastPromotedSpec === s.lastAppliedSpec
          ? true
          : undefined;
      },
      { timeoutMs: 120_000, what: `Succeeded; replica-b's log:\n${b.log}` },
    );
    const run = await endedRun(objects, namespace, 'web');
    expect(run.status!.transitions!.map((t) => `${t.to}:${t.reason}:${t.weight}`)).toEqual(
      promotedTimeline,
    );

    const writes = (await readFile(cluster.auditLogPath!, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, any>)
      .filter((e) => e.stage === 'ResponseComplete' && (e.responseStatus?.code ?? 500) < 300)
      .filter((e) => e.objectRef?.resource !== 'leases')
      .map((e): Write => ({
        at: Date.parse(e.requestReceivedTimestamp),
        agent: String(e.userAgent ?? ''),
        verb: e.verb,
        resource: `${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`,
      }));
    const of = (name: string) => writes.filter((w) => w.agent.includes(`(${name}_`));
    const [byA, byB] = [of('replica-a'), of('replica-b')];
    const agents = [...new Set(writes.map((w) => w.agent))].join(', ');
    expect(byA.length, `writes of the first leader; writers: ${agents}`).toBeGreaterThan(0);
    expect(byB.length, 'writes of the second leader').toBeGreaterThan(0);
    const lastA = Math.max(...byA.map((w) => w.at));
    const firstB = Math.min(...byB.map((w) => w.at));
    expect(
      lastA,
      `replica-a's last write (${new Date(lastA).toISOString()}) before replica-b's first (${new Date(firstB).toISOString()})`,
    ).toBeLessThan(firstB);
    expect(lastA, 'replica-a wrote nothing once its path stalled').toBeLessThan(stalledAt + 1_000);
  });
});
