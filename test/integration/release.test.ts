import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary, CanaryRun } from '../../src/api/types.js';
import type { App } from '../../src/app.js';
import type { CheckOutcome, CheckRunner } from '../../src/contracts/checks.js';
import { history, requestAction } from '../../src/cli/kube-commands.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { manualClock, startInProcess } from '../harness/in-process.js';
import { readObject } from '../harness/controller.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
  readCanary,
  setImage as setDeploymentImage,
  stepUntil,
} from '../harness/weir.js';

/** A check runner the test sets: the controller calls it at every analysis step. */
class ScriptedChecks implements CheckRunner {
  outcome: CheckOutcome = { passed: true, failures: [] };
  calls = 0;
  async run(): Promise<CheckOutcome> {
    this.calls += 1;
    return this.outcome;
  }
}

const namespace = 'shop';

// Given a real control plane with KWOK nodes, Weir's CRDs and Gateway API, and the
// controller running in-process on a manual clock (so a 10 s interval costs no
// real time), when a Deployment's image changes, then Weir releases it.
describe('a release on the real control plane', () => {
  let cluster: Cluster;
  let app: App;
  let kc: k8s.KubeConfig;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const clock = manualClock();
  const checks = new ScriptedChecks();

  const canary = (name = 'podinfo') => readCanary(objects, namespace, name);
  /** The CanaryRun of a Canary's current (or last) release. */
  async function currentRun(name = 'podinfo'): Promise<CanaryRun> {
    return (await objects.read({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'CanaryRun',
      metadata: { name: (await canary(name)).status!.currentRun!, namespace },
    })) as CanaryRun;
  }
  async function routeWeights(name = 'podinfo'): Promise<number[]> {
    const route = (await objects.read({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name, namespace },
    })) as any;
    const rule = route.spec.rules.find((r: any) => !r.matches?.length) ?? route.spec.rules.at(-1);
    return rule.backendRefs.map((b: { weight: number }) => b.weight);
  }
  /** Moves the manual clock in steps until `probe` holds, letting watches and the queue settle in between. */
  const until = <T>(
    what: string,
    probe: () => Promise<T | undefined>,
    stepMs = 1_000,
    maxSteps = 200,
  ) => stepUntil(app, clock, what, probe, { stepMs, maxSteps, settleMs: 60 });
  const phaseIs =
    (phase: string, name = 'podinfo') =>
    async () =>
      (await canary(name)).status?.phase === phase ? true : undefined;
  /** Creates a Canary for `target` on port 80 with the given analysis. */
  const newCanary = (name: string, target: string, analysis: Canary['spec']['analysis']) =>
    createCanary(objects, namespace, name, {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      analysis,
    });
  const setImage = (image: string, name = 'podinfo') =>
    setDeploymentImage(apps, namespace, name, image);

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
    await installWeirCrds(cluster);
    ({ kubeConfig: kc, objects, apps } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const name of ['podinfo', 'billing', 'search']) {
      await createDeployment(apps, namespace, name, 2);
    }
    app = await startInProcess(kc, { clock, checks });
  });

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
  });

  it('bootstraps: primary Deployment, Services, HTTPRoute at 100/0, target scaled to zero', async () => {
    await createCanary(objects, namespace, 'podinfo', {
      provider: 'gatewayapi',
      service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', threshold: 2, maxWeight: 30, stepWeight: 10 },
    });
    await until('Initialized', phaseIs('Initialized'));
    const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace });
    expect(primary.spec?.selector.matchLabels).toEqual({ app: 'podinfo-primary' });
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe('example.test/podinfo:1');
    expect(primary.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Canary',
      name: 'podinfo',
    });
    expect(await routeWeights()).toEqual([100, 0]);
    await until('target scaled to zero', async () =>
      (await apps.readNamespacedDeployment({ name: 'podinfo', namespace })).spec?.replicas === 0
        ? true
        : undefined,
    );
    const status = (await canary()).status!;
    expect(status.conditions?.find((c) => c.type === 'Promoted')).toMatchObject({ status: 'True' });
  });

  it('steps the HTTPRoute 0 → 10 → 20 → 30 one interval apart, promotes, and returns 100% to the primary', async () => {
    const callsBefore = checks.calls;
    await setImage('example.test/podinfo:2');
    await until('Progressing', phaseIs('Progressing'));
    // kstatus: health checks (Flux, Argo CD) see a release in flight.
    expect(
      (await canary()).status?.conditions?.find((x) => x.type === 'Reconciling'),
    ).toMatchObject({ status: 'True', reason: 'Progressing' });
    const seen: number[] = [(await routeWeights())[1]!];
    const stepTimes: number[] = [];
    await until(
      'Promoting',
      async () => {
        const phase = (await canary()).status?.phase;
        if (phase !== 'Progressing') return true;
        const w = (await routeWeights())[1]!;
        if (w !== seen.at(-1)) {
          seen.push(w);
          stepTimes.push(clock.now());
        }
        return undefined;
      },
      1_000,
    );
    expect(seen).toEqual([0, 10, 20, 30]);
    // One interval (10 s of the controller's clock) between steps.
    expect(stepTimes.slice(1).map((t, i) => t - stepTimes[i]!)).toEqual([10_000, 10_000]);
    expect(checks.calls - callsBefore).toBe(4);

    await until('Succeeded', phaseIs('Succeeded'));
    const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace });
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe('example.test/podinfo:2');
    expect(await routeWeights()).toEqual([100, 0]);
    await until('canary scaled to zero', async () =>
      (await apps.readNamespacedDeployment({ name: 'podinfo', namespace })).spec?.replicas === 0
        ? true
        : undefined,
    );

    const c = await canary();
    expect(c.status).toMatchObject({ phase: 'Succeeded', canaryWeight: 0, failedChecks: 0 });
    expect(c.status?.lastPromotedSpec).toBe(c.status?.lastAppliedSpec);
    expect(c.status?.conditions?.map((x) => x.type)).toEqual(['Ready', 'Promoted']);
    // What people and GitOps tools wait on.
    await expect(
      cluster.kubectl([
        'wait',
        '--for=condition=Promoted',
        'canaries.weir.dev/podinfo',
        '-n',
        namespace,
        '--timeout=10s',
      ]),
    ).resolves.toContain('condition met');
    const run = await currentRun();
    expect(run.status?.result).toBe('Promoted');
    expect(run.spec.images).toEqual({
      from: ['example.test/podinfo:1'],
      to: ['example.test/podinfo:2'],
    });
    expect(run.status?.transitions?.map((t) => `${t.to}:${t.reason}:${t.weight}`)).toEqual([
      'Progressing:NewRevision:0',
      'Progressing:StepAdvanced:10',
      'Progressing:StepAdvanced:20',
      'Progressing:StepAdvanced:30',
      'Promoting:Promoting:30',
      'Finalising:Finalising:30',
      'Succeeded:Succeeded:0',
    ]);
  });

  it('rolls back after `threshold` failed checks: 100% primary, canary at zero, Failed, run RolledBack with the cause', async () => {
    checks.outcome = { passed: false, failures: ['request-success-rate 91.2% < 99%'] };
    await setImage('example.test/podinfo:3');
    await until('Failed', phaseIs('Failed'));
    const c = await canary();
    expect(c.status).toMatchObject({ phase: 'Failed', canaryWeight: 0, failedChecks: 2 });
    expect(c.status?.conditions?.find((x) => x.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'RolledBack',
    });
    expect(c.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RolledBack',
      message: expect.stringContaining('request-success-rate 91.2% < 99%'),
    });
    expect(await routeWeights()).toEqual([100, 0]);
    const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace });
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe('example.test/podinfo:2');
    await until('canary scaled to zero', async () =>
      (await apps.readNamespacedDeployment({ name: 'podinfo', namespace })).spec?.replicas === 0
        ? true
        : undefined,
    );
    const run = await currentRun();
    expect(run.status?.result).toBe('RolledBack');
    expect(run.status?.transitions?.at(-1)).toMatchObject({
      to: 'Failed',
      reason: 'RolledBack',
      message: expect.stringContaining('91.2%'),
    });
    checks.outcome = { passed: true, failures: [] };

    // weir history shows both releases as a timeline.
    const target = { kubeConfig: kc, namespace };
    const timeline = await history(target, 'podinfo');
    expect(timeline).toMatch(/revision \w+ {2}Promoted/);
    expect(timeline).toMatch(/revision \w+ {2}RolledBack/);
    expect(timeline).toContain('images: example.test/podinfo:2 -> example.test/podinfo:3');
    expect(timeline).toMatch(
      /Failed +weight +0 {2}RolledBack +Failed checks reached the threshold \(2\/2\)/,
    );
  });

  it('retries a failed revision and aborts a release on request, through the annotations the CLI sets', async () => {
    const target = { kubeConfig: kc, namespace };
    await expect(requestAction(target, 'podinfo', 'abort')).rejects.toThrow(
      /is Failed; abort applies to a release in progress/,
    );
    expect(await requestAction(target, 'podinfo', 'retry')).toMatch(
      /^retry requested for shop\/podinfo at revision \w+/,
    );
    await until('Progressing again', phaseIs('Progressing'));
    await requestAction(target, 'podinfo', 'abort');
    await until('Failed by abort', phaseIs('Failed'));
    const c = await canary();
    expect(c.status?.conditions?.find((x) => x.type === 'Ready')?.message).toBe(
      'Release aborted by request',
    );
    const run = await currentRun();
    expect(run.status?.result).toBe('Aborted');
  });

  it('routes requests by header to the canary during an A/B release', async () => {
    await createCanary(objects, namespace, 'search', {
      analysis: {
        interval: '10s',
        iterations: 2,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
    });
    await until('search Initialized', phaseIs('Initialized', 'search'));
    await setImage('example.test/search:2', 'search');
    await until('search Progressing', phaseIs('Progressing', 'search'));
    const readRoute = async () =>
      (
        (await objects.read({
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'search', namespace },
        })) as any
      ).spec.rules;
    expect(await readRoute()).toEqual([
      expect.objectContaining({
        // The Gateway API schema adds its default path match.
        matches: [
          expect.objectContaining({
            headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }],
          }),
        ],
        backendRefs: [
          expect.objectContaining({ name: 'search-primary', weight: 0 }),
          expect.objectContaining({ name: 'search-canary', weight: 100 }),
        ],
      }),
      expect.objectContaining({
        backendRefs: [
          expect.objectContaining({ name: 'search-primary', weight: 100 }),
          expect.objectContaining({ name: 'search-canary', weight: 0 }),
        ],
      }),
    ]);
    await until('search Succeeded', phaseIs('Succeeded', 'search'));
    expect(await readRoute()).toHaveLength(1);
  });

  it('reports a Canary it cannot act on in a condition, without stopping the others', async () => {
    await newCanary('ghost', 'does-not-exist', { interval: '10s', stepWeight: 50 });
    await until('a TargetNotFound condition', async () => {
      const ready = (await canary('ghost')).status?.conditions?.find((x) => x.type === 'Ready');
      return ready?.reason === 'TargetNotFound' ? ready : undefined;
    });
    // The other Canary still answers to a new revision.
    await setImage('example.test/podinfo:4');
    await until('Progressing', phaseIs('Progressing'));
  });

  it('takes over no object it does not own: a foreign Service of the same name, or a Deployment another controller manages', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // Another app's Service happens to carry the name the Canary would generate.
    await createDeployment(apps, namespace, 'archive', 1);
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'archive' },
        spec: { selector: { app: 'legacy-archive' }, ports: [{ port: 80 }] },
      },
    });
    await newCanary('archive', 'archive', { interval: '10s', stepWeight: 50 });
    const blocked = await until('a NameConflict condition', async () => {
      const ready = (await canary('archive')).status?.conditions?.find((x) => x.type === 'Ready');
      return ready?.reason === 'NameConflict' ? ready : undefined;
    });
    expect(blocked.message).toMatch(
      /Service shop\/archive exists and is not owned by Canary archive/,
    );
    const service = await core.readNamespacedService({ name: 'archive', namespace });
    expect(service.spec?.selector).toEqual({ app: 'legacy-archive' });
    expect(service.metadata?.ownerReferences ?? []).toEqual([]);

    // A Canary aimed at another Canary's primary would copy it and scale it to zero.
    const before = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace });
    await newCanary('thief', 'podinfo-primary', { interval: '10s', stepWeight: 50 });
    const refused = await until('a TargetNotOwnable condition', async () => {
      const ready = (await canary('thief')).status?.conditions?.find((x) => x.type === 'Ready');
      return ready?.reason === 'TargetNotOwnable' ? ready : undefined;
    });
    expect(refused.message).toMatch(/managed by Canary podinfo/);
    const after = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace });
    expect(after.spec?.replicas).toBe(before.spec?.replicas);
    expect(
      await readObject(objects, 'apps/v1', 'Deployment', namespace, 'podinfo-primary-primary'),
    ).toBeUndefined();
  });

  it('runs blue/green with the kubernetes provider and rejects weights it cannot route', async () => {
    await createCanary(objects, namespace, 'billing', {
      provider: 'kubernetes',
      service: { port: 8080 },
      analysis: { interval: '10s', iterations: 2 },
    });
    await until('billing Initialized', phaseIs('Initialized', 'billing'));
    await setImage('example.test/billing:2', 'billing');
    await until('billing Succeeded', phaseIs('Succeeded', 'billing'));
    const primary = await apps.readNamespacedDeployment({ name: 'billing-primary', namespace });
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe('example.test/billing:2');
    const apex = await kc
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedService({ name: 'billing', namespace });
    expect(apex.spec?.selector).toEqual({ app: 'billing-primary' });

    await objects.patch(
      {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name: 'billing', namespace },
        spec: { analysis: { interval: '10s', stepWeight: 20, iterations: null } },
      } as any,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await until('an UnsupportedStrategy condition', async () => {
      const ready = (await canary('billing')).status?.conditions?.find((x) => x.type === 'Ready');
      return ready?.reason === 'UnsupportedStrategy' ? ready : undefined;
    });
  });

  it('tracks the ConfigMaps and Secrets a target uses: a config change is a new revision, promoted as a -primary copy', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'cart-config' }, data: { mode: 'v1' } },
    });
    const token = (v: string) => ({ token: Buffer.from(v).toString('base64') });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'cart-token' }, data: token('t1') },
    });
    await createDeployment(apps, namespace, 'cart', 1, {
      envFrom: [{ configMapRef: { name: 'cart-config' } }, { secretRef: { name: 'cart-token' } }],
    });
    await newCanary('cart', 'cart', { interval: '10s', stepWeight: 50 });
    await until('cart Initialized', phaseIs('Initialized', 'cart'));
    const primary = await apps.readNamespacedDeployment({ name: 'cart-primary', namespace });
    expect(primary.spec?.template.spec?.containers[0]?.envFrom).toEqual([
      { configMapRef: { name: 'cart-config-primary' } },
      { secretRef: { name: 'cart-token-primary' } },
    ]);
    expect(
      (await core.readNamespacedConfigMap({ name: 'cart-config-primary', namespace })).data,
    ).toEqual({ mode: 'v1' });
    expect(
      (await core.readNamespacedSecret({ name: 'cart-token-primary', namespace })).data,
    ).toEqual(token('t1'));
    const before = (await canary('cart')).status!;
    expect(Object.keys(before.trackedConfigs ?? {}).sort()).toEqual([
      'configmap/cart-config',
      'secret/cart-token',
    ]);

    await core.patchNamespacedConfigMap(
      { name: 'cart-config', namespace, body: { data: { mode: 'v2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await until('cart Progressing on the config change', phaseIs('Progressing', 'cart'));
    expect((await canary('cart')).status?.lastAppliedSpec).not.toBe(before.lastPromotedSpec);
    await until('cart Succeeded', phaseIs('Succeeded', 'cart'));
    expect(
      (await core.readNamespacedConfigMap({ name: 'cart-config-primary', namespace })).data,
    ).toEqual({ mode: 'v2' });

    // A changed Secret is a new revision too, read by name when its metadata moves.
    await core.patchNamespacedSecret(
      { name: 'cart-token', namespace, body: { data: token('t2') } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await until('cart Progressing on the Secret change', phaseIs('Progressing', 'cart'));
    await until('cart Succeeded again', phaseIs('Succeeded', 'cart'));
    expect(
      (await core.readNamespacedSecret({ name: 'cart-token-primary', namespace })).data,
    ).toEqual(token('t2'));
  });

  it('holds a release at confirm gates until the revision is approved on the Canary', async () => {
    await createDeployment(apps, namespace, 'orders', 1);
    await newCanary('orders', 'orders', {
      interval: '10s',
      stepWeight: 50,
      webhooks: [
        { name: 'go', type: 'confirm-rollout', url: 'http://gate.example.test/rollout' },
        { name: 'ship', type: 'confirm-promotion', url: 'http://gate.example.test/promotion' },
      ],
    });
    await until('orders Initialized', phaseIs('Initialized', 'orders'));
    await setImage('example.test/orders:2', 'orders');
    await until('orders Waiting', phaseIs('Waiting', 'orders'));
    clock.advance(60_000);
    await app.queue.idle();
    expect((await canary('orders')).status?.phase).toBe('Waiting');
    const revision = (await canary('orders')).status!.lastAppliedSpec!;
    await objects.patch(
      {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name: 'orders', namespace, annotations: { 'weir.dev/approve': revision } },
      } as any,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    // One approval covers both gates of this revision.
    await until('orders Succeeded', phaseIs('Succeeded', 'orders'));
    const run = await currentRun('orders');
    expect(run.status?.transitions?.map((t) => t.reason)).toEqual(
      expect.arrayContaining([
        'NewRevision',
        'RolloutConfirmed',
        'StepAdvanced',
        'Promoting',
        'Succeeded',
      ]),
    );
    expect(run.status?.transitions?.[0]).toMatchObject({ to: 'Waiting', reason: 'NewRevision' });
  });

  it('waits in WaitingPromotion with the analysis still running, and rolls back if it fails there', async () => {
    await createDeployment(apps, namespace, 'ledger', 1);
    await newCanary('ledger', 'ledger', {
      interval: '10s',
      stepWeight: 100,
      threshold: 1,
      webhooks: [
        { name: 'ship', type: 'confirm-promotion', url: 'http://gate.example.test/promotion' },
      ],
    });
    await until('ledger Initialized', phaseIs('Initialized', 'ledger'));
    await setImage('example.test/ledger:2', 'ledger');
    await until('ledger WaitingPromotion', phaseIs('WaitingPromotion', 'ledger'));
    const callsBefore = checks.calls;
    checks.outcome = { passed: false, failures: ['latency 900ms > 500ms'] };
    await until('ledger Failed', phaseIs('Failed', 'ledger'));
    checks.outcome = { passed: true, failures: [] };
    expect(checks.calls).toBeGreaterThan(callsBefore);
    expect(
      (await canary('ledger')).status?.conditions?.find((x) => x.type === 'Ready')?.message,
    ).toContain('latency 900ms > 500ms');
  });

  it('with revertOnDeletion, deleting the Canary gives the target back its replicas and traffic', async () => {
    await objects.patch(
      {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name: 'billing', namespace },
        spec: { revertOnDeletion: true, analysis: { stepWeight: null, iterations: 2 } },
      } as any,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await until('the finalizer', async () =>
      (await canary('billing')).metadata.finalizers?.includes('weir.dev/finalizer')
        ? true
        : undefined,
    );
    expect(
      (await apps.readNamespacedDeployment({ name: 'billing', namespace })).spec?.replicas,
    ).toBe(0);
    await objects.delete({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name: 'billing', namespace },
    });
    await until('the Canary to be gone', async () =>
      (await canary('billing').catch(() => undefined)) === undefined ? true : undefined,
    );
    expect(
      (await apps.readNamespacedDeployment({ name: 'billing', namespace })).spec?.replicas,
    ).toBe(2);
  });
});
