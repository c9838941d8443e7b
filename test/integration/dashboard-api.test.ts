import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { CanaryDetail, CanaryRow, StreamMessage } from '../../src/dashboard/model.js';
import { dashboardUserAgent, startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/logger.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { ScriptedChecks, startController } from '../harness/controller.js';
import { manualClock } from '../harness/in-process.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
  readCanary,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const namespace = 'dash';

// Every list and watch, when its response starts (a watch) and when it completes: the
// watches the dashboard holds open are those started and not completed.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [watch, list]
  - level: None
`;

/** A webhook answer a page must show as text. */
const hostile = '<img src=x onerror="alert(1)">';

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  userAgent?: string;
  requestURI: string;
}

// Given Weir releasing on a real control plane (in-process, on a manual clock) and the
// dashboard server on the admin kubeconfig, when one Canary is promoted and another
// rolled back, then the dashboard's API shows both as the cluster holds them, streams
// the next change, takes an action through the annotations the CLI writes, and serves
// every page from the same four API watches.
describe('the dashboard API on a real control plane', () => {
  let cluster: Cluster;
  let app: App;
  let dashboard: Dashboard;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let kubeConfig: k8s.KubeConfig;
  const clock = manualClock('2026-12-04T10:00:00Z');
  const checks = new ScriptedChecks();
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { settleMs: 60 });
  const phaseIs = (name: string, phase: string) => async () =>
    (await readCanary(objects, namespace, name)).status?.phase === phase ? true : undefined;

  const url = (path: string) => new URL(path, dashboard.url);
  const getJson = async <T>(path: string) => {
    const res = await fetch(url(path));
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  /** Polls the dashboard's API until `pick` finds what is expected (the watches are live, not instant). */
  const eventually = <T>(what: string, path: string, pick: (body: any) => T | undefined) =>
    waitFor(async () => pick(await getJson(path)), { timeoutMs: 15_000, what });

  const auditEvents = (): AuditEvent[] =>
    readFileSync(cluster.auditLogPath!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((e) => e.userAgent === dashboardUserAgent);
  /** The dashboard's watches open now, by path. */
  const openWatches = () => {
    const events = auditEvents().filter((e) => e.verb === 'watch');
    const ended = new Set(
      events.filter((e) => e.stage === 'ResponseComplete').map((e) => e.auditID),
    );
    return events
      .filter((e) => e.stage === 'ResponseStarted' && !ended.has(e.auditID))
      .map((e) => e.requestURI.split('?')[0]!)
      .sort();
  };

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 1,
      auditPolicy,
      extraArgs: { 'kube-apiserver': ['--audit-log-mode=blocking'] },
    });
    await installWeirCrds(cluster);
    ({ kubeConfig, objects, apps } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    app = await startController({ kubeConfig, clock, checks });
    for (const name of ['shipped', 'reverted']) {
      await createDeployment(apps, namespace, name, 2);
      await createCanary(objects, namespace, name, {
        service: { port: 80, gatewayRefs: [{ name: 'public' }] },
        analysis: { interval: '10s', threshold: 2, maxWeight: 20, stepWeight: 10 },
      });
      await until(`${name} Initialized`, phaseIs(name, 'Initialized'));
    }
    dashboard = await startDashboard({
      kubeConfig,
      logger: createLogger('silent'),
      assets: { 'app.js': '', 'app.css': '' },
    });
  }, 300_000);

  afterAll(async () => {
    await dashboard?.close();
    await app?.stop();
    await cluster?.stop();
  });

  it('shows one release promoted and one rolled back, with their transitions and metric values', async () => {
    checks.outcome = {
      passed: true,
      failures: [],
      metrics: [{ name: 'request-success-rate', value: 99.7, min: 99, passed: true }],
    };
    await setImage(apps, namespace, 'shipped', 'example.test/shipped:2');
    await until('shipped Succeeded', phaseIs('shipped', 'Succeeded'));

    await setImage(apps, namespace, 'reverted', 'example.test/reverted:2');
    await until('reverted at 10 %', async () =>
      (await readCanary(objects, namespace, 'reverted')).status?.canaryWeight === 10
        ? true
        : undefined,
    );
    checks.outcome = {
      passed: false,
      failures: ['request-success-rate 91.2% < 99%'],
      metrics: [{ name: 'request-success-rate', value: 91.2, min: 99, passed: false }],
      webhooks: [{ name: 'smoke', type: 'rollout', statusCode: 500, passed: false, body: hostile }],
    };
    await until('reverted Failed', phaseIs('reverted', 'Failed'));
    checks.outcome = { passed: true, failures: [] };

    const rows = await eventually(
      'both releases ended in the rows',
      '/api/canaries',
      (r: CanaryRow[]) =>
        r.length === 2 && r.every((x) => x.phase === 'Succeeded' || x.phase === 'Failed')
          ? r
          : undefined,
    );
    const row = (name: string) => rows.find((r) => r.name === name)!;
    expect(row('shipped')).toMatchObject({
      namespace,
      target: 'Deployment/shipped',
      phase: 'Succeeded',
      inFlight: false,
      canaryWeight: 0,
      images: ['example.test/shipped:2'],
    });
    expect(row('reverted')).toMatchObject({
      phase: 'Failed',
      inFlight: false,
      canaryWeight: 0,
      failedChecks: 2,
      threshold: 2,
      images: ['example.test/reverted:2'],
    });
    const revision = (await readCanary(objects, namespace, 'shipped')).status!.lastAppliedSpec!;
    expect(row('shipped').revision).toBe(revision);

    const detail = await eventually(
      'the rolled-back release with its failed checks',
      `/api/canaries/${namespace}/reverted`,
      (d: CanaryDetail) => (d.releases[0]?.transitions.at(-1)?.to === 'Failed' ? d : undefined),
    );
    const release = detail.releases[0]!;
    expect(release.images).toEqual({
      from: ['example.test/reverted:1'],
      to: ['example.test/reverted:2'],
    });
    expect(release.transitions.map((t) => t.weight)).toContain(10);
    const measured = release.transitions.flatMap((t) => t.metrics);
    expect(measured).toContainEqual({
      name: 'request-success-rate',
      value: 99.7,
      min: 99,
      passed: true,
    });
    expect(measured).toContainEqual({
      name: 'request-success-rate',
      value: 91.2,
      min: 99,
      passed: false,
    });
    const answered = release.transitions.flatMap((t) => t.webhooks);
    expect(answered).toContainEqual({
      name: 'smoke',
      type: 'rollout',
      statusCode: 500,
      passed: false,
      body: hostile,
    });
    expect(detail.declared.images).toEqual(['example.test/reverted:2']);
    expect(detail.running).toMatchObject({ images: ['example.test/reverted:1'], replicas: 2 });
    expect(detail.events.length).toBeGreaterThan(0);
    // A Failed release may be retried by this admin: offered, and the others not.
    expect(detail.actions.filter((a) => a.applicable).map((a) => a.action)).toEqual(['retry']);
    const gone = await fetch(url(`/api/canaries/${namespace}/nothing`));
    expect(gone.status).toBe(404);
  });

  it('streams the next change, takes an action like the CLI, and refuses one without its headers', async () => {
    const list = openStream(url('/api/stream'));
    const follow = openStream(url(`/api/stream?canary=${namespace}/shipped`));
    try {
      await list.until('the snapshot', (m) => m.type === 'snapshot');
      await follow.until('the detail', (m) => m.type === 'detail');

      await setImage(apps, namespace, 'shipped', 'example.test/shipped:3');
      await until('shipped Progressing', phaseIs('shipped', 'Progressing'));
      const upsert = await list.until(
        'an upsert of shipped in flight',
        (m) => m.type === 'upsert' && m.row.name === 'shipped' && m.row.inFlight,
      );
      expect(upsert.type === 'upsert' && upsert.row.phase).toBe('Progressing');
      const detail = await follow.until(
        'a detail offering promote',
        (m) =>
          m.type === 'detail' &&
          m.detail.actions.some((a) => a.action === 'promote' && a.applicable),
      );
      expect(detail.type === 'detail' && detail.detail.row.images).toEqual([
        'example.test/shipped:3',
      ]);

      const path = url(`/api/canaries/${namespace}/shipped/actions/promote`);
      const refused = await fetch(path, { method: 'POST', body: '{}' });
      expect(refused.status).toBe(403);
      const before = (await readCanary(objects, namespace, 'shipped')).metadata.annotations ?? {};
      expect(before['weir.dev/promote']).toBeUndefined();

      const answer = await fetch(path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Origin: url('/').origin,
          'X-Weir-Action': '1',
        },
        body: '{}',
      });
      const revision = (await readCanary(objects, namespace, 'shipped')).status!.lastAppliedSpec!;
      expect(await answer.json()).toEqual({
        message: `promote requested for ${namespace}/shipped at revision ${revision} (annotation weir.dev/promote=${revision})`,
      });
      expect(answer.status).toBe(200);
      expect(
        (await readCanary(objects, namespace, 'shipped')).metadata.annotations?.[
          'weir.dev/promote'
        ],
      ).toBe(revision);
      await until('shipped promoted on request', phaseIs('shipped', 'Succeeded'));
      await list.until(
        'an upsert of shipped promoted',
        (m) => m.type === 'upsert' && m.row.name === 'shipped' && m.row.phase === 'Succeeded',
      );
    } finally {
      list.close();
      follow.close();
    }
  });

  it('serves every page from the same four API watches', async () => {
    const expected = [
      '/api/v1/events',
      '/apis/apps/v1/deployments',
      '/apis/weir.dev/v1alpha1/canaries',
      '/apis/weir.dev/v1alpha1/canaryruns',
    ];
    // A watch that timed out is replaced: between the two, three are open.
    await waitFor(
      async () => (JSON.stringify(openWatches()) === JSON.stringify(expected) ? true : undefined),
      {
        timeoutMs: 10_000,
        what: `the dashboard's four watches (open: ${openWatches().join(', ')})`,
      },
    );
    const lists = auditEvents().filter((e) => e.verb === 'list').length;
    const pages = [
      openStream(url('/api/stream')),
      openStream(url('/api/stream')),
      openStream(url(`/api/stream?canary=${namespace}/shipped`)),
      openStream(url(`/api/stream?canary=${namespace}/reverted`)),
      openStream(url(`/api/stream?canary=${namespace}/reverted`)),
    ];
    try {
      for (const p of pages) await p.until('a snapshot', (m) => m.type === 'snapshot');
      await new Promise((r) => setTimeout(r, 1_000));
      const open = openWatches();
      expect(open.length, `open watches: ${open.join(', ')}`).toBeLessThanOrEqual(4);
      await waitFor(
        async () => (JSON.stringify(openWatches()) === JSON.stringify(expected) ? true : undefined),
        {
          timeoutMs: 10_000,
          what: 'the same four watches',
        },
      );
      // No page listed anything either: they all read the one cache.
      expect(auditEvents().filter((e) => e.verb === 'list').length).toBe(lists);
    } finally {
      pages.forEach((p) => p.close());
    }
  });
});

/** A page's event stream: every message it got; `until` waits for one matching. */
function openStream(at: URL) {
  const messages: StreamMessage[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  const req = request(at, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      const frames = buffered.split('\n\n');
      buffered = frames.pop()!;
      for (const f of frames) if (f.startsWith('data: ')) messages.push(JSON.parse(f.slice(6)));
      waiters.forEach((w) => w());
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    messages,
    until: (what: string, match: (m: StreamMessage) => boolean, timeoutMs = 15_000) =>
      new Promise<StreamMessage>((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`Gave up waiting for ${what}; got ${messages.map((m) => m.type).join(', ')}`),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
    close: () => req.destroy(),
  };
}
