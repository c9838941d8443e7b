import type * as k8s from '@kubernetes/client-node';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveAnnotation, manualAnnotations } from '../../src/api/annotations.js';
import type { Canary, CanaryRun } from '../../src/api/types.js';
import type { App } from '../../src/app.js';
import { argoHealth } from '../harness/argocd-health.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { fluxNamespace, startFlux, type Flux } from '../harness/flux.js';
import { startGitServer, WorkingCopy, type GitServer } from '../harness/git-server.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startReceiver, type Receiver } from '../harness/receiver.js';
import { clientsFor, installWeirCrds, readCanary, stepUntil } from '../harness/weir.js';
import { waitFor } from '../harness/wait.js';

const namespace = 'gitops';

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # The bodies of writes to routes: what exactly each side changed in a route the user owns.
  - level: Request
    verbs: [create, update, patch]
    namespaces: [${namespace}]
    resources: [{ group: gateway.networking.k8s.io, resources: [httproutes] }]
  - level: Metadata
    verbs: [create, update, patch, delete]
    namespaces: [${namespace}]
  - level: None
`;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** One successful write the API server's audit log recorded. */
interface Write {
  at: number;
  writer: 'flux' | 'weir' | 'other';
  verb: string;
  object: string;
  /** The request body, where the audit policy keeps it (writes to routes). */
  body?: unknown;
}

type Deployment = k8s.V1Deployment & { spec: k8s.V1DeploymentSpec };

// Given Weir on a real control plane and Flux's own source-controller and
// kustomize-controller applying a Git repository served over smart HTTP, when a
// team releases by commits only, then Flux and Weir never revert each other,
// Flux's health check reads each release from the Canary's status, and every
// manual action is a commit acted on once.
describe('GitOps with Flux', () => {
  let cluster: Cluster;
  let flux: Flux;
  let gitServer: GitServer;
  let repo: WorkingCopy;
  let receiver: Receiver;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  const clock = manualClock();
  // Weir runs on a manual clock and Flux on real time: every step lets real time pass too.
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { settleMs: 200, maxSteps: 600 });

  const { status, phaseIs } = canaryProbes(() => objects, namespace);

  const file = (name: string) => path.join(repo.dir, 'deploy', name);
  const write = (name: string, doc: unknown) => {
    mkdirSync(path.dirname(file(name)), { recursive: true });
    writeFileSync(file(name), yaml.dump(doc));
  };
  const edit = <T>(name: string, change: (doc: T) => void) => {
    const doc = yaml.load(readFileSync(file(name), 'utf8')) as T;
    change(doc);
    write(name, doc);
  };
  const setImage = (tag: string) =>
    edit<Deployment>('deployment.yaml', (d) => {
      d.spec.template.spec!.containers[0]!.image = `example.test/web:${tag}`;
    });
  const annotate = (annotations: Record<string, string | undefined>) =>
    edit<Canary>('canary.yaml', (c) => {
      const next = { ...c.metadata.annotations, ...annotations };
      for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
      c.metadata.annotations = next as Record<string, string>;
    });

  const kustomization = async () =>
    (await objects.read({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'apps', namespace: fluxNamespace },
    })) as {
      status?: {
        conditions?: Condition[];
        lastAppliedRevision?: string;
        lastAttemptedRevision?: string;
      };
    };
  const ready = async () =>
    (await kustomization()).status?.conditions?.find((c) => c.type === 'Ready');
  /**
   * Pushes a commit and waits (on real time, Weir stepping along) until Flux has
   * attempted it and `landed` sees its change in the cluster. (Flux's health check
   * may still be waiting: `lastAppliedRevision` moves only once it passes, and
   * `lastAttemptedRevision` moves before the apply.)
   */
  const commit = async (
    message: string,
    landed: () => Promise<boolean>,
    push = () => repo.commitAndPush(message),
  ) => {
    const sha = await push();
    await until(`Flux to apply "${message}"`, async () =>
      (await kustomization()).status?.lastAttemptedRevision?.endsWith(sha) && (await landed())
        ? true
        : undefined,
    );
    return sha;
  };
  const canaryNow = () => readCanary(objects, namespace, 'web');
  const imageIs = (tag: string) => async () =>
    (await deployment('web')).spec.template.spec!.containers[0]!.image ===
    `example.test/web:${tag}`;
  const annotationIs = (key: string, value: string) => async () =>
    (await canaryNow()).metadata.annotations?.[key] === value;
  const canarySays = (check: (c: Canary) => boolean) => async () => check(await canaryNow());
  const fluxReady = (want: string, what: string) =>
    until(what, async () => ((await ready())?.status === want ? await ready() : undefined));
  const runs = async () =>
    (
      (await objects.list('weir.dev/v1alpha1', 'CanaryRun', namespace)) as unknown as {
        items: CanaryRun[];
      }
    ).items;
  const deployment = async (name: string) =>
    (await objects.read({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
    })) as Deployment;
  /** Keeps a step of each release where Flux and the Argo CD check can be compared with the phase. */
  const timeline: string[] = [];
  const note = async () => {
    const r = await ready();
    const canary = await canaryNow();
    const line = `${canary.status?.phase} | Flux ${r?.status} ${r?.reason} | Argo CD ${argoHealth(canary).status}`;
    if (timeline.at(-1) !== line) timeline.push(line);
    return { phase: canary.status?.phase, ready: r };
  };

  const auditWrites = (): Write[] =>
    readFileSync(cluster.auditLogPath!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, any>)
      .filter((e) => e.stage === 'ResponseComplete' && (e.responseStatus?.code ?? 500) < 300)
      // Flux compares by server-side dry runs before it applies: those write nothing.
      .filter((e) => !String(e.requestURI).includes('dryRun='))
      .filter((e) => ['create', 'update', 'patch'].includes(e.verb))
      .map((e) => {
        const ref = e.objectRef ?? {};
        const sub = ref.subresource ? `/${ref.subresource}` : '';
        return {
          at: Date.parse(e.requestReceivedTimestamp),
          writer: String(e.userAgent).startsWith('kustomize-controller/')
            ? 'flux'
            : String(e.userAgent).startsWith('weir-controller/')
              ? 'weir'
              : 'other',
          verb: e.verb,
          object: `${ref.resource}/${ref.name}${sub}`,
          body: e.requestObject,
        } as Write;
      });
  const writesBy = (writer: Write['writer'], since = 0) => {
    const counts: Record<string, number> = {};
    for (const w of auditWrites())
      if (w.writer === writer && w.at >= since) counts[w.object] = (counts[w.object] ?? 0) + 1;
    return counts;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    gitServer = await startGitServer();
    cluster = await startCluster({
      nodes: 1,
      auditPolicy,
      extraArgs: { 'kube-apiserver': ['--audit-log-mode=blocking'] },
    });
    await installWeirCrds(cluster);
    ({ objects } = clientsFor(cluster));
    flux = await startFlux(cluster);
    gitServer.createRepo('apps');
    repo = new WorkingCopy(gitServer.url('apps'));
    write('namespace.yaml', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    write('deployment.yaml', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: 'example.test/web:1' }] },
        },
      },
    });
    write('canary.yaml', {
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name: 'web', namespace },
      spec: {
        provider: 'gatewayapi',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        service: { port: 80, gatewayRefs: [{ name: 'public' }] },
        analysis: {
          interval: '10s',
          threshold: 1,
          maxWeight: 50,
          stepWeight: 25,
          webhooks: [
            { name: 'smoke', type: 'rollout', url: `${receiver.url}/check` },
            { name: 'sign-off', type: 'confirm-promotion', url: `${receiver.url}/gate` },
          ],
        },
      },
    });
    const first = await repo.commitAndPush('web 1: first deployment with a Canary');
    await flux.sync({
      name: 'apps',
      url: gitServer.url('apps'),
      path: './deploy',
      interval: '3s',
      // The weights of the rule Weir splits in the route the team owns (the last test):
      // Flux leaves them out of drift detection and keeps them when it applies an edit.
      spec: {
        ignore: [
          {
            target: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'api-public' },
            paths: ['/spec/rules/0/backendRefs/0/weight', '/spec/rules/0/backendRefs/1/weight'],
          },
        ],
      },
    });
    app = await startInProcess(clientsFor(cluster).kubeConfig, { clock });
    await waitFor(
      async () =>
        (await kustomization().catch(() => undefined))?.status?.lastAttemptedRevision?.endsWith(
          first,
        ) && (await canaryNow().catch(() => undefined))
          ? true
          : undefined,
      { timeoutMs: 60_000, what: 'Flux to apply the first commit' },
    );
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
    await flux?.stop();
    await cluster?.stop();
    await gitServer?.stop();
    await receiver?.stop();
    repo?.remove();
  });

  it('releases by commits: Flux and Argo CD report the release in progress, healthy after promotion, failed after a rollback', async () => {
    await until('web Initialized', phaseIs('web', 'Initialized'));
    await fluxReady('True', 'the Kustomization to be Ready after the first commit');

    setImage('2');
    await commit('web 2', imageIs('2'));
    await until('web Succeeded, Flux healthy', async () => {
      const { phase, ready } = await note();
      return phase === 'Succeeded' && ready?.status === 'True' ? true : undefined;
    });
    expect(timeline).toContain('Progressing | Flux Unknown Progressing | Argo CD Progressing');
    expect(timeline.at(-1)).toBe('Succeeded | Flux True ReconciliationSucceeded | Argo CD Healthy');
    expect((await ready())!.message).toMatch(/^Applied revision: main@sha1:/);

    receiver.reply('/check', { status: 500, body: 'error rate 30 %' });
    setImage('3');
    timeline.length = 0;
    await commit('web 3: a bad release', imageIs('3'));
    const failed = await until('web Failed, Flux failing its health check', async () => {
      const { phase, ready } = await note();
      return phase === 'Failed' && ready?.status === 'False' ? ready : undefined;
    });
    expect(timeline).toContain('Progressing | Flux Unknown Progressing | Argo CD Progressing');
    expect(timeline.at(-1)).toBe('Failed | Flux False HealthCheckFailed | Argo CD Degraded');
    // Flux names the Canary and its kstatus; Weir's reason is in the Canary's Stalled condition,
    // which Flux's health check does not copy (fluxcd/pkg/ssa) and Argo CD's check does.
    expect(failed!.message).toContain("Canary/gitops/web status: 'Failed'");
    const canary = await readCanary(objects, namespace, 'web');
    const stalled = canary.status!.conditions!.find((c) => c.type === 'Stalled')!;
    expect(stalled.message).toMatch(/smoke/);
    expect(argoHealth(canary)).toEqual({
      status: 'Degraded',
      message: `RolledBack: ${stalled.message}`,
    });

    // git revert of the rolled-back commit: back to what the primary runs, with no new release.
    const before = (await runs()).length;
    await commit('git revert of web 3', imageIs('2'), () => {
      repo.git('revert', '--no-edit', 'HEAD');
      return repo.push();
    });
    const clean = await until('web clean again, Flux healthy', async () => {
      const { phase, ready } = await note();
      return phase === 'Succeeded' && ready?.status === 'True' ? await status('web') : undefined;
    });
    expect(clean.lastAppliedSpec).toBe(clean.lastPromotedSpec);
    expect(clean.conditions!.map((c) => c.type)).not.toContain('Stalled');
    expect(argoHealth(await canaryNow()).status).toBe('Healthy');
    expect((await runs()).length).toBe(before);
  });

  it('never fights over a field: Flux writes an object only for a commit that changes it, Weir never writes what Git declares', async () => {
    // Flux has reconciled every 3 s through two releases: each of its writes came from a commit.
    const flux = writesBy('flux');
    const weir = writesBy('weir');
    expect(flux, JSON.stringify({ flux, weir })).toEqual({
      'namespaces/gitops': 1,
      // created by the first commit, then the image of web 2, web 3 and the revert
      'deployments/web': 4,
      'canaries/web': 1,
    });
    // Weir writes the target only through its scale subresource, and the Canary only in status.
    const weirOnGitObjects = Object.keys(weir).filter((o) =>
      /^(deployments|canaries)\/web(\/|$)/.test(o),
    );
    expect(weirOnGitObjects.sort(), JSON.stringify(weir)).toEqual([
      'canaries/web/status',
      'deployments/web/scale',
    ]);
    // Flux wrote nothing Weir generates.
    for (const generated of ['deployments/web-primary', 'services/', 'httproutes/'])
      expect(Object.keys(flux).filter((o) => o.startsWith(generated))).toEqual([]);
    // And the managed fields agree: Git owns the target's template, Weir its replicas.
    const target = await deployment('web');
    const owners = Object.fromEntries(
      (target.metadata!.managedFields ?? []).map((m) => [
        `${m.manager}${m.subresource ? `/${m.subresource}` : ''}`,
        Object.keys((m.fieldsV1 as Record<string, object>)['f:spec'] ?? {}).sort(),
      ]),
    );
    expect(owners['kustomize-controller']).toContain('f:template');
    expect(owners['kustomize-controller']).not.toContain('f:replicas');
    expect(target.spec.replicas).toBe(0);

    // Ten more seconds of Flux reconciling a settled release: not one write from either side.
    const quietFrom = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    await app.queue.idle();
    expect(writesBy('flux', quietFrom)).toEqual({});
    expect(
      Object.keys(writesBy('weir', quietFrom)).filter((o) => !o.startsWith('events/')),
    ).toEqual([]);
  });

  it('leaves replicas declared in Git to Git, says so, and still releases', async () => {
    edit<Deployment>('deployment.yaml', (d) => {
      d.spec.replicas = 2;
    });
    receiver.reply('/check', { status: 200, body: 'ok' });
    setImage('4');
    const from = Date.now();
    await commit('web 4, with replicas declared in Git', imageIs('4'));
    await until('web Succeeded with 4', async () => {
      const s = await status('web');
      return s.phase === 'Succeeded' && s.lastAppliedSpec === s.lastPromotedSpec ? s : undefined;
    });
    const condition = (await status('web')).conditions!.find((c) => c.type === 'ReplicasInGit');
    expect(condition).toMatchObject({ status: 'True', reason: 'DeclaredByApplier' });
    expect(condition!.message).toContain('applied by kustomize-controller');
    // Flux reconciles on: the target keeps Git's two replicas, and nobody rewrites them.
    await new Promise((r) => setTimeout(r, 10_000));
    await app.queue.idle();
    expect((await deployment('web')).spec.replicas).toBe(2);
    const fluxWrites = auditWrites().filter((w) => w.writer === 'flux' && w.at >= from);
    expect(
      fluxWrites.filter((w) => w.object === 'deployments/web'),
      JSON.stringify(fluxWrites),
    ).toHaveLength(1);
    expect(writesBy('weir', from)['deployments/web/scale']).toBeUndefined();
    await fluxReady('True', 'Flux healthy after web 4');
  });

  it('acts on approve, abort and retry committed to Git once, and Flux’s next syncs do not undo or repeat them', async () => {
    // Approve: the sign-off webhook says no until the approval for this revision is committed.
    receiver.reply('/gate', { status: 403, body: 'waiting for sign-off' });
    setImage('5');
    await commit('web 5', imageIs('5'));
    const waiting = await until('web WaitingPromotion', async () => {
      const s = await status('web');
      return s.phase === 'WaitingPromotion' ? s : undefined;
    });
    expect(argoHealth(await readCanary(objects, namespace, 'web')).status).toBe('Suspended');
    annotate({ [approveAnnotation]: waiting.lastAppliedSpec! });
    await commit(
      `approve web 5 (${waiting.lastAppliedSpec})`,
      annotationIs(approveAnnotation, waiting.lastAppliedSpec!),
    );
    await until('web 5 Succeeded', phaseIs('web', 'Succeeded'));
    receiver.reply('/gate', { status: 200, body: 'ok' });

    // Abort: web 6 is stopped by a commit while its analysis runs.
    setImage('6');
    await commit('web 6', imageIs('6'));
    const progressing = await until('web 6 Progressing', async () => {
      const s = await status('web');
      return s.phase === 'Progressing' ? s : undefined;
    });
    annotate({ [manualAnnotations.abort]: progressing.lastAppliedSpec! });
    await commit(
      'abort web 6',
      annotationIs(manualAnnotations.abort, progressing.lastAppliedSpec!),
    );
    await until('web 6 Failed', phaseIs('web', 'Failed'));
    const aborted = (await runs()).filter((r) => r.status?.result === 'Aborted');
    expect(aborted).toHaveLength(1);

    // Retry: the same revision again, once, however many times Flux applies the commit.
    const before = (await runs()).length;
    annotate({ [manualAnnotations.retry]: progressing.lastAppliedSpec! });
    await commit(
      'retry web 6',
      annotationIs(manualAnnotations.retry, progressing.lastAppliedSpec!),
    );
    await until('web 6 Succeeded on retry', phaseIs('web', 'Succeeded'));
    await new Promise((r) => setTimeout(r, 8_000));
    await app.queue.idle();
    expect((await runs()).length).toBe(before + 1);
    expect((await status('web')).phase).toBe('Succeeded');
    await fluxReady('True', 'Flux healthy after the retry');
  });

  it('suspends and resumes by commits', async () => {
    edit<Canary>('canary.yaml', (c) => {
      c.spec.suspend = true;
    });
    await commit(
      'suspend web',
      canarySays((c) => c.spec.suspend === true),
    );
    await until('Argo CD to see the suspension', async () =>
      argoHealth(await canaryNow()).status === 'Suspended' ? true : undefined,
    );
    const before = (await runs()).length;
    setImage('7');
    await commit('web 7 while suspended', imageIs('7'));
    for (let i = 0; i < 20; i++) {
      clock.advance(10_000);
      await app.queue.idle();
    }
    // Seen and held where it is: no traffic moves and the primary is untouched.
    const held = await status('web');
    expect(held.phase).toBe('Progressing');
    expect(held.canaryWeight).toBe(0);
    expect(argoHealth(await canaryNow()).status).toBe('Suspended');
    expect((await deployment('web-primary')).spec.template.spec!.containers[0]!.image).toBe(
      'example.test/web:6',
    );
    edit<Canary>('canary.yaml', (c) => {
      c.spec.suspend = false;
    });
    await commit(
      'resume web',
      canarySays((c) => c.spec.suspend === false),
    );
    await until('web 7 promoted after resume', async () =>
      (await deployment('web-primary')).spec.template.spec!.containers[0]!.image ===
        'example.test/web:7' && (await status('web')).phase === 'Succeeded'
        ? true
        : undefined,
    );
    // One release for web 7, from its detection while suspended to its promotion.
    expect((await runs()).length).toBe(before + 1);
  });

  it('keeps releasing while the Git server stalls; Flux reports its source failing, then recovers', async () => {
    const source = async () =>
      (
        (await objects.read({
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          kind: 'GitRepository',
          metadata: { name: 'apps', namespace: fluxNamespace },
        })) as { status?: { conditions?: Condition[] } }
      ).status?.conditions?.find((c) => c.type === 'Ready');
    setImage('7.1');
    await commit('web 7.1', imageIs('7.1'));
    gitServer.stall();
    // Weir needs nothing from Git to finish what Flux already applied.
    await until('web 7.1 promoted while Git stalls', async () => {
      const s = await status('web');
      return s.phase === 'Succeeded' && s.lastAppliedSpec === s.lastPromotedSpec ? true : undefined;
    });
    // Flux's fetches time out (20 s): its source goes not ready, the cluster keeps the last commit.
    const failing = await until('the GitRepository to fail', async () => {
      const r = await source();
      return r?.status === 'False' ? r : undefined;
    });
    expect(failing.message).toMatch(/timeout|deadline|context/i);
    expect((await deployment('web-primary')).spec.template.spec!.containers[0]!.image).toBe(
      'example.test/web:7.1',
    );
    gitServer.unstall();
    await until('the GitRepository to recover', async () =>
      (await source())?.status === 'True' ? true : undefined,
    );
    await fluxReady('True', 'Flux healthy once Git answers again');
  });

  it('waits for Weir when the Canary’s observedGeneration lags, in Flux and in Argo CD', async () => {
    await until('web settled', phaseIs('web', 'Succeeded'));
    await fluxReady('True', 'Flux healthy before the lag');
    await app.stop();
    edit<Canary>('canary.yaml', (c) => {
      c.spec.analysis.maxWeight = 75;
    });
    const sha = await repo.commitAndPush('raise maxWeight while Weir is down');
    await waitFor(
      async () =>
        (await kustomization()).status?.lastAttemptedRevision?.endsWith(sha) &&
        (await canaryNow()).spec.analysis.maxWeight === 75
          ? true
          : undefined,
      { timeoutMs: 60_000, what: 'Flux to apply the change' },
    );
    const lagging = await readCanary(objects, namespace, 'web');
    expect(lagging.status!.observedGeneration).toBeLessThan(lagging.metadata.generation!);
    expect(argoHealth(lagging)).toEqual({
      status: 'Progressing',
      message: `Waiting for Weir to observe generation ${lagging.metadata.generation}`,
    });
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await ready())!.status).toBe('Unknown');
    app = await startInProcess(clientsFor(cluster).kubeConfig, { clock });
    await fluxReady('True', 'Flux healthy once Weir has observed the generation');
    const current = await readCanary(objects, namespace, 'web');
    expect(current.status!.observedGeneration).toBe(current.metadata.generation);
  });

  it('restores the target when the Canary is removed from Git with revertOnDeletion, leaving nothing behind', async () => {
    // Git's replicas go first, so that Weir has the target at zero to restore.
    edit<Deployment>('deployment.yaml', (d) => {
      delete d.spec.replicas;
    });
    edit<Canary>('canary.yaml', (c) => {
      c.spec.revertOnDeletion = true;
    });
    setImage('8');
    await commit('web 8, replicas back to Weir, revertOnDeletion', imageIs('8'));
    await until('web 8 promoted and the target scaled to zero', async () => {
      const s = await status('web');
      const target = await deployment('web');
      return s.phase === 'Succeeded' &&
        s.lastAppliedSpec === s.lastPromotedSpec &&
        target.spec.replicas === 0
        ? true
        : undefined;
    });

    rmSync(file('canary.yaml'));
    await commit('remove the Canary of web', async () => true);
    await until('the Canary pruned', async () =>
      (await objects
        .read({
          apiVersion: 'weir.dev/v1alpha1',
          kind: 'Canary',
          metadata: { name: 'web', namespace },
        })
        .then(() => false)
        .catch(() => true))
        ? true
        : undefined,
    );
    const target = await deployment('web');
    expect(target.spec.replicas).toBeGreaterThan(0);
    expect(target.spec.template.spec!.containers[0]!.image).toBe('example.test/web:8');
    // Everything Weir generated is owned by the Canary and goes with it.
    await until('generated objects collected', async () => {
      const left = [
        ...(
          (await objects.list('apps/v1', 'Deployment', namespace)) as { items: k8s.V1Deployment[] }
        ).items
          .map((d) => `deployment/${d.metadata!.name}`)
          .filter((n) => n !== 'deployment/web'),
        ...(
          (await objects.list('v1', 'Service', namespace)) as { items: k8s.V1Service[] }
        ).items.map((s) => `service/${s.metadata!.name}`),
        ...(
          (await objects.list('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace)) as {
            items: k8s.KubernetesObject[];
          }
        ).items.map((r) => `httproute/${r.metadata!.name}`),
        ...(await runs()).map((r) => `canaryrun/${r.metadata.name}`),
      ];
      return left.length === 0 ? true : undefined;
    });
    await fluxReady('True', 'Flux healthy after pruning');
  });

  it('splits a route the team keeps in Git: Weir writes only its weights, and Flux keeps them through an edit of the route', async () => {
    const from = Date.now();
    write('api-deployment.yaml', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace },
      spec: {
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: { containers: [{ name: 'app', image: 'example.test/api:1' }] },
        },
      },
    });
    // The team's own route: its name, a filter, and a rule for another backend. Weir splits rule 0.
    const backend = (name: string, weight?: number) => ({
      name,
      port: 80,
      ...(weight === undefined ? {} : { weight }),
    });
    write('api-route.yaml', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'api-public', namespace },
      spec: {
        parentRefs: [{ name: 'public' }],
        hostnames: ['api.example.test'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'X-Team', value: 'payments' }] },
              },
            ],
            backendRefs: [backend('api-primary', 100), backend('api-canary', 0)],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/docs' } }],
            backendRefs: [backend('api-docs')],
          },
        ],
      },
    });
    write('api-canary.yaml', {
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name: 'api', namespace },
      spec: {
        provider: 'gatewayapi',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
        service: { port: 80, routeRef: { name: 'api-public' } },
        analysis: { interval: '10s', threshold: 1, maxWeight: 50, stepWeight: 25 },
      },
    });
    type Route = {
      spec: {
        rules: {
          filters?: { requestHeaderModifier?: { set?: { value: string }[] } }[];
          matches: { path: { value: string } }[];
          backendRefs: { name: string; weight?: number }[];
        }[];
      };
    };
    const route = async () =>
      (await objects.read({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'api-public', namespace },
      })) as unknown as Route;
    const weights = async () =>
      (await route()).spec.rules[0]!.backendRefs.map((b) => `${b.name}=${b.weight}`).join(' ');
    await commit('api 1, with the team’s own HTTPRoute', async () =>
      readCanary(objects, namespace, 'api').then(
        () => true,
        () => false,
      ),
    );
    await until('api Initialized', phaseIs('api', 'Initialized'));

    const canaryImage = (tag: string) =>
      edit<Deployment>('api-deployment.yaml', (d) => {
        d.spec.template.spec!.containers[0]!.image = `example.test/api:${tag}`;
      });
    canaryImage('2');
    await commit('api 2', async () => true);
    await until('api at weight 25 in the team’s route', async () =>
      (await weights()) === 'api-primary=75 api-canary=25' ? true : undefined,
    );
    // The team edits its route mid-release: another filter value and another path for the docs.
    edit<Route>('api-route.yaml', (r) => {
      r.spec.rules[0]!.filters![0]!.requestHeaderModifier!.set![0]!.value = 'payments-v2';
      r.spec.rules[1]!.matches[0]!.path.value = '/help';
    });
    await commit('api route: a new header value and /help', async () => {
      const r = await route();
      return r.spec.rules[1]!.matches[0]!.path.value === '/help';
    });
    // Flux applied the edit and kept Weir's weights (whatever step Weir has reached).
    const edited = await route();
    expect(edited.spec.rules[0]!.filters![0]!.requestHeaderModifier!.set![0]!.value).toBe(
      'payments-v2',
    );
    const canaryWeight = (await status('api')).canaryWeight;
    expect(canaryWeight).toBeGreaterThan(0);
    expect(await weights()).toBe(`api-primary=${100 - canaryWeight!} api-canary=${canaryWeight}`);

    await until('api 2 promoted, Flux healthy', async () => {
      const s = await status('api');
      return s.phase === 'Succeeded' &&
        s.lastAppliedSpec === s.lastPromotedSpec &&
        (await ready())?.status === 'True'
        ? true
        : undefined;
    });
    expect(await weights()).toBe('api-primary=100 api-canary=0');

    // Ten quiet seconds: nobody writes the route.
    const quietFrom = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    await app.queue.idle();
    const writes = auditWrites().filter(
      (w) => w.object === 'httproutes/api-public' && w.at >= from,
    );
    expect(writes.filter((w) => w.at >= quietFrom)).toEqual([]);
    // Flux wrote the route for its two commits, and nothing else.
    expect(writes.filter((w) => w.writer === 'flux')).toHaveLength(2);
    // Weir wrote it once per weight it set (25, 50, and back to 0 at promotion), only weights.
    const byWeir = writes.filter((w) => w.writer === 'weir');
    expect(writes.filter((w) => w.writer === 'other')).toEqual([]);
    expect(byWeir.length).toBeGreaterThanOrEqual(3);
    for (const w of byWeir) {
      expect(w.verb).toBe('patch');
      for (const op of w.body as { op: string; path: string }[])
        expect(`${op.op} ${op.path}`).toMatch(
          /^(test \/spec\/rules\/0\/backendRefs\/[01]\/name|add \/spec\/rules\/0\/backendRefs\/[01]\/weight)$/,
        );
    }
  });
});
