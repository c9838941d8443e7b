import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  knativeApiVersion,
  primaryRevisionAnnotation,
  type KnativeService,
  type KnativeTrafficTarget,
} from '../../src/workloads/knative.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startKnativeStandIn, type KnativeStandIn } from '../harness/knative-stand-in.js';
import { startReceiver, type Receiver } from '../harness/receiver.js';
import { clientsFor, createCanary, endedRun, installWeirCrds, stepUntil } from '../harness/weir.js';

const namespace = 'serverless';
const name = 'hello';

// Given a real control plane with Knative Serving's real CRDs (v0.51), a stand-in for
// Knative's controller that writes the Service status Knative documents (a Revision
// per template, ready or not, and the resolved traffic), Weir in-process on a manual
// clock and a real webhook receiver as the check, when a Knative Service's template
// changes, then Weir splits the Service's own spec.traffic between the primary Revision
// and the new one by name, step by step, promotes by making the new Revision the
// primary, and rolls back by giving the primary all the traffic, leaving the template
// (Git's) as it is.
describe('a Knative Service release on the real CRDs', () => {
  let cluster: Cluster;
  let app: App;
  let receiver: Receiver;
  let knative: KnativeStandIn;
  let objects: k8s.KubernetesObjectApi;
  let custom: k8s.CustomObjectsApi;
  const clock = manualClock();
  const { status, phaseIs } = canaryProbes(() => objects, namespace);
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { stepMs: 1_000, maxSteps: 300, settleMs: 60 });

  const service = async () =>
    (await custom.getNamespacedCustomObject({
      group: 'serving.knative.dev',
      version: 'v1',
      namespace,
      plural: 'services',
      name,
    })) as KnativeService;
  const traffic = async () =>
    ((await service()).spec?.traffic ?? []).map((t: KnativeTrafficTarget) =>
      t.latestRevision ? `latest=${t.percent}` : `${t.revisionName}=${t.percent}`,
    );
  const setImage = (image: string) =>
    custom.patchNamespacedCustomObject(
      {
        group: 'serving.knative.dev',
        version: 'v1',
        namespace,
        plural: 'services',
        name,
        body: { spec: { template: { spec: { containers: [{ image }] } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );

  beforeAll(async () => {
    receiver = await startReceiver();
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    const clients = clientsFor(cluster);
    objects = clients.objects;
    custom = clients.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await objects.create({
      apiVersion: knativeApiVersion,
      kind: 'Service',
      metadata: { name, namespace, labels: { team: 'web' } },
      spec: {
        template: { spec: { containers: [{ image: `example.test/${name}:1` }] } },
      },
    } as k8s.KubernetesObject);
    knative = startKnativeStandIn(custom, namespace);
    app = await startInProcess(clients.kubeConfig, {
      clock,
      webhookBackoff: { backoffMs: 10 },
      flags: ['--knative'],
    });
  }, 240_000);

  afterAll(async () => {
    await app?.stop();
    await knative?.stop();
    await cluster?.stop();
    await receiver?.stop();
  });

  it('bootstraps: the Revision Knative serves becomes the primary, with all the traffic by name; nothing else is generated', async () => {
    await until('the first Revision ready', async () =>
      (await service()).status?.latestReadyRevisionName === `${name}-00001` ? true : undefined,
    );
    await createCanary(objects, namespace, name, {
      targetRef: { apiVersion: knativeApiVersion, kind: 'Service', name },
      service: { port: 80 },
      analysis: {
        interval: '10s',
        threshold: 2,
        stepWeight: 20,
        maxWeight: 40,
        webhooks: [{ name: 'smoke', type: 'rollout', url: `${receiver.url}/smoke` }],
      },
    });
    await until('Initialized', phaseIs(name, 'Initialized'));
    const svc = await service();
    expect(svc.metadata?.annotations?.[primaryRevisionAnnotation]).toBe(`${name}-00001`);
    expect(await traffic()).toEqual([`${name}-00001=100`]);
    // The user's fields are the user's: the template and labels are as created.
    expect(svc.spec?.template?.spec?.containers[0]?.image).toBe(`example.test/${name}:1`);
    expect(svc.metadata?.labels).toEqual({ team: 'web' });
    // Knative's own split, no Kubernetes Services or primary of Weir's.
    const core = clientsFor(cluster).kubeConfig.makeApiClient(k8s.CoreV1Api);
    expect((await core.listNamespacedService({ namespace })).items).toEqual([]);
  });

  it('releases the new Revision by name, 20 % then 40 %, and promotes it: the primary annotation and all the traffic move to it', async () => {
    await setImage(`example.test/${name}:2`);
    const seen = new Set<string>();
    await until('Succeeded', async () => {
      const s = await status(name);
      if (s.phase === 'Progressing') seen.add((await traffic()).join(' '));
      return s.phase === 'Succeeded' ? true : undefined;
    });
    expect([...seen]).toEqual(
      expect.arrayContaining([
        `${name}-00001=80 ${name}-00002=20`,
        `${name}-00001=60 ${name}-00002=40`,
      ]),
    );
    // Never `latestRevision`: the Revision judged is the Revision named.
    expect([...seen].some((s) => s.includes('latest='))).toBe(false);
    expect(receiver.on('/smoke').length).toBeGreaterThanOrEqual(2);
    const svc = await service();
    expect(svc.metadata?.annotations?.[primaryRevisionAnnotation]).toBe(`${name}-00002`);
    expect(await traffic()).toEqual([`${name}-00002=100`]);
    // Knative resolves Weir's split: its status carries it, Revision by Revision.
    await until('Knative to report the split', async () =>
      JSON.stringify(
        (await service()).status?.traffic?.map((t) => `${t.revisionName}=${t.percent}`),
      ) === JSON.stringify([`${name}-00002=100`])
        ? true
        : undefined,
    );
    const run = await endedRun(objects, namespace, name);
    expect(run.status?.result).toBe('Promoted');
    expect(run.spec.revision).toBe(`${name}-00002`);
  });

  it('rolls a failing Revision back: all traffic to the primary Revision, which stays the primary; Git’s template is left as it is', async () => {
    receiver.reply('/smoke', { status: 500, body: 'smoke test failed' });
    await setImage(`example.test/${name}:3`);
    const seen = new Set<string>();
    await until('Failed', async () => {
      const s = await status(name);
      if (s.phase === 'Progressing') seen.add((await traffic()).join(' '));
      return s.phase === 'Failed' ? true : undefined;
    });
    expect(seen).toContain(`${name}-00002=80 ${name}-00003=20`);
    expect(await status(name)).toMatchObject({ phase: 'Failed', failedChecks: 2 });
    const svc = await service();
    expect(svc.metadata?.annotations?.[primaryRevisionAnnotation]).toBe(`${name}-00002`);
    expect(await traffic()).toEqual([`${name}-00002=100`]);
    expect(svc.spec?.template?.spec?.containers[0]?.image).toBe(`example.test/${name}:3`);
    expect((await endedRun(objects, namespace, name)).status?.result).toBe('RolledBack');
  });

  it('does not route to a Revision that never becomes ready: the release waits, then rolls back at the progress deadline', async () => {
    receiver.reply('/smoke', { status: 200, body: 'ok' });
    knative.neverReady.add(`${name}-00004`);
    await objects.patch(
      {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name, namespace },
        spec: { progressDeadlineSeconds: 60 },
      } as k8s.KubernetesObject,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await setImage(`example.test/${name}:4`);
    const seen = new Set<string>();
    await until('Failed', async () => {
      const s = await status(name);
      if (s.phase === 'Progressing') seen.add((await traffic()).join(' '));
      return s.phase === 'Failed' && s.lastAppliedSpec === `${name}-00004` ? true : undefined;
    });
    // The unready Revision never got a share.
    expect([...seen].every((s) => !s.includes(`${name}-00004=`) || s.includes('00004=0'))).toBe(
      true,
    );
    expect(await traffic()).toEqual([`${name}-00002=100`]);
    const conditions = (await status(name)).conditions ?? [];
    expect(JSON.stringify(conditions)).toContain('progressDeadlineSeconds');
  });
});
