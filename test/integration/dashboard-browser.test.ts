import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { CheckOutcome, CheckRunner } from '../../src/contracts/checks.js';
import { dashboardUserAgent, startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { pageAssets } from '../../src/dashboard/ui/bundle.js';
import { createLogger } from '../../src/logger.js';
import { launchBrowser, screenshotDir, type HeadlessBrowser } from '../harness/browser.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { startController } from '../harness/controller.js';
import { serviceAccountKubeConfig } from '../harness/helm.js';
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

const namespace = 'shop';
const root = path.resolve(import.meta.dirname, '../..');
const shots = screenshotDir(root);

// The watches and lists the dashboards make, with who made them.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [watch, list]
  - level: None
`;

/** A webhook answer the page must show as text, never as markup. */
const hostile = '<img src=x onerror="document.title=\'pwned\'"><script>alert(1)</script>';

/** The check runner: every analysis step asks `script` for the Canary's outcome. */
class Scripted implements CheckRunner {
  script: (canary: string, step: number) => CheckOutcome = () => ({ passed: true, failures: [] });
  private readonly steps = new Map<string, number>();
  async run(canary: unknown, _step: unknown): Promise<CheckOutcome> {
    const name = (canary as { metadata: { name: string } }).metadata.name;
    const n = (this.steps.get(name) ?? 0) + 1;
    this.steps.set(name, n);
    return this.script(name, n);
  }
}

/** A healthy step: success rate and latency that move a little, and a load test that passes. */
const healthy = (n: number): CheckOutcome => ({
  passed: true,
  failures: [],
  metrics: [
    {
      name: 'request-success-rate',
      value: [99.9, 99.7, 99.8, 99.95, 99.85][n % 5]!,
      min: 99,
      passed: true,
    },
    { name: 'request-duration', value: [182, 205, 176, 231, 190][n % 5]!, max: 500, passed: true },
  ],
  webhooks: [{ name: 'load-test', type: 'rollout', statusCode: 200, passed: true, body: 'ok' }],
});

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  userAgent?: string;
  user?: { username?: string };
  requestURI: string;
}

// Given Weir releasing on a real control plane and the dashboard served to a real
// headless Chromium, when one release is promoted and another rolled back, then the
// pages show each phase as it happens, without a reload, from the same four watches
// however many pages are open; a hostile webhook answer shows as text, and the
// actions are offered only to a user whose RBAC allows them.
describe('the dashboard in a real browser', () => {
  let cluster: Cluster;
  let app: App;
  let admin: Dashboard;
  let adminConfig: k8s.KubeConfig;
  let viewer: Dashboard;
  let browser: HeadlessBrowser;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  // Twenty minutes ago, so that the page's ages (read from the browser's clock) read true.
  const clock = manualClock(new Date(Date.now() - 20 * 60_000).toISOString());
  const checks = new Scripted();
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { stepMs: 2_000, settleMs: 40 });
  const canary = async (name: string) => readCanary(objects, namespace, name);
  const phaseIs = (name: string, phase: string) => async () =>
    (await canary(name)).status?.phase === phase ? true : undefined;
  const weightIs = (name: string, weight: number) => async () =>
    (await canary(name)).status?.canaryWeight === weight ? true : undefined;

  /** The admin dashboard's watches open now (a watch that timed out is replaced). */
  const openWatches = () => {
    const events = readFileSync(cluster.auditLogPath!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter(
        (e) =>
          e.verb === 'watch' &&
          e.userAgent === dashboardUserAgent &&
          !e.user?.username?.startsWith('system:serviceaccount:'),
      );
    const ended = new Set(
      events.filter((e) => e.stage === 'ResponseComplete').map((e) => e.auditID),
    );
    return events
      .filter((e) => e.stage === 'ResponseStarted' && !ended.has(e.auditID))
      .map((e) => e.requestURI.split('?')[0]!)
      .sort();
  };
  const fourWatches = [
    '/api/v1/events',
    '/apis/apps/v1/deployments',
    '/apis/weir.dev/v1alpha1/canaries',
    '/apis/weir.dev/v1alpha1/canaryruns',
  ];
  const watchesAreTheFour = () =>
    waitFor(
      async () =>
        JSON.stringify(openWatches()) === JSON.stringify(fourWatches) ? true : undefined,
      {
        timeoutMs: 10_000,
        what: `the dashboard's four watches (open: ${openWatches().join(', ')})`,
      },
    );

  const pages: {
    page: Page;
    trouble: { console: string[]; errors: string[]; dialogs: string[]; foreign: string[] };
  }[] = [];
  const open = async (dashboard: Dashboard, at: string) => {
    const opened = await browser.open(new URL(dashboard.url).origin);
    pages.push(opened);
    await opened.page.goto(new URL(at, dashboard.url).href);
    return opened.page;
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(shots, `dashboard-${name}.png`), fullPage: true });
  const row = (page: Page, name: string) => page.locator(`tr[data-key="${namespace}/${name}"]`);

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 1,
      auditPolicy,
      extraArgs: { 'kube-apiserver': ['--audit-log-mode=blocking'] },
    });
    await installWeirCrds(cluster);
    const clients = clientsFor(cluster);
    ({ objects, apps } = clients);
    adminConfig = clients.kubeConfig;
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    app = await startController({ kubeConfig: clients.kubeConfig, clock, checks });
    for (const name of ['checkout', 'payments', 'search']) {
      await createDeployment(apps, namespace, name, 2);
      await createCanary(objects, namespace, name, {
        service: { port: 80, gatewayRefs: [{ name: 'public' }] },
        analysis: { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10 },
      });
      await until(`${name} Initialized`, phaseIs(name, 'Initialized'));
    }

    // A user who may read everything the dashboard shows, and patch nothing.
    const rbac = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'viewer', namespace } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'dashboard-viewer' },
        rules: [
          {
            apiGroups: ['weir.dev'],
            resources: ['canaries', 'canaryruns'],
            verbs: ['get', 'list', 'watch'],
          },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'dashboard-viewer' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'dashboard-viewer',
        },
        subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace }],
      },
    ];
    for (const o of rbac) await objects.create(o);

    const assets = await pageAssets();
    const logger = createLogger('silent');
    admin = await startDashboard({ kubeConfig: clients.kubeConfig, logger, assets });
    viewer = await startDashboard({
      kubeConfig: await serviceAccountKubeConfig(cluster, namespace, 'viewer'),
      logger,
      assets,
    });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
    await admin?.close();
    await app?.stop();
    await cluster?.stop();
  });

  it('shows a release live in the list and on its page, to its promotion', async () => {
    const list = await open(admin, '/');
    await expect.poll(() => list.locator('tbody tr').count()).toBe(3);
    await row(list, 'checkout').locator('td.col-phase', { hasText: 'Initialized' }).waitFor();
    const detail = await open(admin, `/canaries/${namespace}/checkout`);
    await detail.locator('h1', { hasText: `${namespace}/checkout` }).waitFor();

    checks.script = (_name, n) => healthy(n);
    await setImage(apps, namespace, 'checkout', 'registry.example/checkout:1.4.0');
    await until('checkout at 20 %', weightIs('checkout', 20));
    // Live: the list moved the row first (in flight) and rewrote its cells, with no reload.
    await row(list, 'checkout').locator('td.col-weight', { hasText: '20 %' }).waitFor();
    await row(list, 'checkout').locator('td.col-phase', { hasText: 'Progressing' }).waitFor();
    expect(await list.locator('tbody tr').first().getAttribute('data-key')).toBe(
      `${namespace}/checkout`,
    );
    await row(list, 'checkout')
      .locator('td.col-images', { hasText: 'registry.example/checkout:1.4.0' })
      .waitFor();
    await detail.locator('.summary', { hasText: '20 %' }).waitFor();
    await detail.locator('.release h2', { hasText: 'Current release' }).waitFor();

    await until('checkout Succeeded', phaseIs('checkout', 'Succeeded'));
    await row(list, 'checkout').locator('td.col-phase', { hasText: 'Succeeded' }).waitFor();
    await detail.locator('.release h2', { hasText: 'Last release' }).waitFor();

    // The timeline: every step, and the promotion at the end.
    const timeline = detail.locator('.release ol.timeline > li');
    const entries = await timeline.allInnerTexts();
    for (const w of [10, 20, 30, 40, 50]) expect(entries.join('\n')).toContain(`weight ${w} %`);
    expect(entries.at(-1)).toContain('Succeeded');
    // The weight chart has a point per transition with a weight; the metric charts a
    // marker per check, and each chart's data table the values measured.
    const weightPoints = await detail.locator('.release circle.weight-point').count();
    expect(weightPoints).toBeGreaterThanOrEqual(6);
    const success = detail.locator('.release figure', { hasText: 'request-success-rate' });
    expect(await success.locator('path.marker').count()).toBeGreaterThanOrEqual(5);
    const values = (await success.locator('.chart-data td').allTextContents()).join(' ');
    expect(values).toContain('99.7');
    expect(await detail.locator('.release figure', { hasText: 'request-duration' }).count()).toBe(
      1,
    );
    // Git declares what the primary now runs.
    await detail.locator('.images-section p.same').waitFor();
    await shot(detail, 'promoted');
  });

  it('shows a rollback with its reason, and a hostile webhook answer as plain text', async () => {
    const detail = await open(admin, `/canaries/${namespace}/payments`);
    await detail.locator('.summary', { hasText: 'Initialized' }).waitFor();
    checks.script = (_name, n) =>
      n < 2
        ? healthy(n)
        : {
            passed: false,
            failures: ['request-success-rate 91.2% < 99%'],
            metrics: [
              { name: 'request-success-rate', value: 91.2, min: 99, passed: false },
              { name: 'request-duration', value: 412, max: 500, passed: true },
            ],
            webhooks: [
              { name: 'load-test', type: 'rollout', statusCode: 500, passed: false, body: hostile },
            ],
          };
    await setImage(apps, namespace, 'payments', 'registry.example/payments:2.1.0');
    await until('payments Failed', phaseIs('payments', 'Failed'));
    checks.script = (_name, n) => healthy(n);

    // The phase itself ("Failed checks", a label, is always there).
    await detail.locator('.summary span.phase', { hasText: 'Failed' }).waitFor();
    await detail.locator('.release .facts', { hasText: 'RolledBack' }).waitFor();
    const timeline = (await detail.locator('.release ol.timeline').innerText()).split('\n');
    expect(timeline.join('\n')).toContain('request-success-rate 91.2% < 99%');
    expect(timeline.join('\n')).toMatch(/Failed/);
    // The failed check in words under its chart, not only as a red marker.
    const success = detail.locator('.release figure', { hasText: 'request-success-rate' });
    expect(await success.locator('path.marker.failed').count()).toBeGreaterThanOrEqual(1);
    // Git declares 2.1.0; the primary still runs the old image.
    await detail.locator('.images-section p.differs').waitFor();

    // The webhook's answer, exactly as text: no element made of it, nothing run.
    const body = detail.locator('.webhooks pre.body').first();
    expect(await body.textContent()).toBe(hostile);
    expect(await detail.locator('main img, main script').count()).toBe(0);
    expect(await detail.title()).toBe(`${namespace}/payments · Weir`);
    await shot(detail, 'rolled-back');

    // Retry is the one action a Failed release offers this admin.
    const offered = detail.locator('.action-buttons button:not([hidden])');
    expect(await offered.allInnerTexts()).toContain('Retry');
    expect(
      await detail.locator('.action-buttons button:not([hidden]):not([disabled])').count(),
    ).toBe(1);
  });

  it('offers no action to a user whose RBAC does not allow the patch', async () => {
    const page = await open(viewer, `/canaries/${namespace}/payments`);
    await page.locator('.summary span.phase', { hasText: 'Failed' }).waitFor();
    await page.locator('#actions-note', { hasText: 'you may not patch Canaries' }).waitFor();
    expect(await page.locator('.action-buttons button:not([hidden])').count()).toBe(0);
    expect(await page.locator('.action-buttons').isHidden()).toBe(true);
  });

  it('takes an action after a confirmation that shows the GitOps change', async () => {
    const page = await open(admin, `/canaries/${namespace}/payments`);
    const retry = page.locator('.action-buttons button[data-action="retry"]');
    await retry.click();
    const dialog = page.locator('dialog.confirm');
    await dialog.waitFor();
    const revision = (await canary('payments')).status!.lastAppliedSpec!;
    expect(await dialog.locator('pre.gitops').innerText()).toContain(revision);
    await dialog.locator('button.primary').click();
    await page.locator('.actions .answer', { hasText: 'retry requested' }).waitFor();
    expect((await canary('payments')).metadata.annotations?.['weir.dev/retry']).toBe(revision);
  });

  it('serves the pages from the same four watches however many are open', async () => {
    await watchesAreTheFour();
    const more = [
      await open(admin, '/'),
      await open(admin, `/canaries/${namespace}/search`),
      await open(admin, '/?phase=Failed'),
    ];
    for (const p of more) await p.locator('main h1').waitFor();
    await more[0]!.locator('tbody tr').first().waitFor();
    await watchesAreTheFour();
  });

  it('filters, sorts and follows links from the keyboard; lists in-flight releases first', async () => {
    // A release in flight for the picture: search at 30 %.
    checks.script = (_name, n) => healthy(n);
    await setImage(apps, namespace, 'search', 'registry.example/search:0.9.3');
    await until('search at 30 %', weightIs('search', 30));
    const list = await open(admin, '/');
    await row(list, 'search').locator('td.col-weight', { hasText: '30 %' }).waitFor();
    // Releases in flight come first (payments too, retried above).
    const phases = await list.locator('tbody td.col-phase').allInnerTexts();
    const inFlight = phases.map((p) => /Progressing|Promoting|Finalising|Waiting/.test(p));
    expect(inFlight.indexOf(false), phases.join(' | ')).toBeGreaterThan(0);
    expect(inFlight.slice(inFlight.indexOf(false)), phases.join(' | ')).not.toContain(true);
    await shot(list, 'list');

    await list.selectOption('#filter-phase', 'in-flight');
    await expect.poll(() => list.locator('tbody tr').count()).toBe(inFlight.filter(Boolean).length);
    expect(list.url()).toContain('phase=in-flight');
    await list.selectOption('#filter-phase', '');
    await list.fill('#filter-text', 'payments');
    await expect.poll(() => list.locator('tbody tr').count()).toBe(1);
    await list.fill('#filter-text', '');
    await list.locator('th button[data-sort="name"]').click();
    await expect
      .poll(async () =>
        (
          await list
            .locator('tbody tr')
            .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-key')))
        ).join(','),
      )
      .toMatch(/checkout.*payments.*search|search.*payments.*checkout/);

    // Keyboard: focus the first row's link and follow it with Enter.
    await list.locator('tbody tr').first().locator('a').focus();
    await list.keyboard.press('Enter');
    await list.waitForURL(/\/canaries\//);
    await list.locator('main h1:focus').waitFor();
  });

  it('says when its stream is lost, and catches up once the server is back', async () => {
    const logger = createLogger('silent');
    const assets = await pageAssets();
    let restarting = await startDashboard({ kubeConfig: adminConfig, logger, assets });
    const port = Number(new URL(restarting.url).port);
    try {
      const { page, trouble } = await browser.open(new URL(restarting.url).origin);
      await page.goto(restarting.url);
      await row(page, 'checkout').waitFor();
      await page.locator('html[data-stream="live"]').waitFor();

      await restarting.close();
      await page
        .locator('html[data-stream="reconnecting"], html[data-stream="retrying"]')
        .waitFor();
      await page.locator('header .stream', { hasText: 'may be out of date' }).waitFor();
      // Meanwhile a release starts; the page still shows the rows as they were.
      await setImage(apps, namespace, 'checkout', 'registry.example/checkout:1.5.0');
      await until('checkout at 10 %', weightIs('checkout', 10));
      expect(await row(page, 'checkout').locator('td.col-phase').innerText()).toContain(
        'Succeeded',
      );

      restarting = await startDashboard({ kubeConfig: adminConfig, logger, assets, port });
      await page.locator('html[data-stream="live"]').waitFor({ timeout: 40_000 });
      await row(page, 'checkout').locator('td.col-phase', { hasText: 'Progressing' }).waitFor();
      await row(page, 'checkout').locator('td.col-images', { hasText: 'checkout:1.5.0' }).waitFor();
      // Only the refused connections were logged while the server was away.
      expect(trouble.errors).toEqual([]);
      expect(trouble.console.filter((m) => !m.includes('ERR_CONNECTION_REFUSED'))).toEqual([]);
      await page.context().close();
    } finally {
      await restarting.close();
    }
  }, 90_000);

  it('did nothing a test did not ask for: no script error, no dialog, no request elsewhere', () => {
    for (const { trouble } of pages)
      expect(trouble).toEqual({ console: [], errors: [], dialogs: [], foreign: [] });
  });
});
