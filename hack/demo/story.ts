import { spawn } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Canary, CanaryRun } from '../../src/api/types.js';
import { history } from '../../src/cli/kube-commands.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { pageAssets } from '../../src/dashboard/ui/bundle.js';
import { createLogger } from '../../src/logger.js';
import { startCluster, type Cluster } from '../../test/harness/cluster.js';
import { startDataPlane } from '../../test/harness/data-plane.js';
import { fluxNamespace, startFlux } from '../../test/harness/flux.js';
import { startGitServer, WorkingCopy } from '../../test/harness/git-server.js';
import { sendRequests, SteadyLoad, type LoadCounts } from '../../test/harness/load.js';
import { freePort } from '../../test/harness/ports.js';
import type { PrometheusServer } from '../../test/harness/prometheus.js';
import { repoRoot, toolPath } from '../../test/harness/tools.js';
import { waitFor } from '../../test/harness/wait.js';
import { startSlackReceiver, type ReceivedMessage } from './slack-receiver.js';

export const namespace = 'shop';
export const app = 'frontend';

/** How the story reports to the person watching. */
export interface StoryOutput {
  say(line: string): void;
  slack(message: ReceivedMessage): void;
  block(text: string): void;
}

/** What went through the gateway during one release (from its commit to its end). */
export interface ReleaseTraffic {
  /** Requests Traefik counted per backend Service (`frontend-primary`, `frontend-canary`), from its own metrics. */
  gateway: Record<string, number>;
  /** Requests the load generator sent to the gateway. */
  sent: number;
  /** Those without a 2xx answer. */
  failed: number;
  /** The failed ones by `<status> <body>` (or `no answer: <why>`). */
  failures: Record<string, number>;
}

/** What the story leaves for callers (the CLI and the test) to look at and stop. */
export interface Story {
  cluster: Cluster;
  /** The Prometheus inside the data plane (scrapes Traefik, the pods and the controller). */
  prometheus: PrometheusServer;
  /** The Gateway's HTTP entry (Traefik), from the host. */
  gatewayUrl: string;
  /** Traffic per release, keyed by version (`1.0.0`, `1.0.1`, `1.0.2`). */
  traffic: Record<string, ReleaseTraffic>;
  slackMessages: ReceivedMessage[];
  kubeConfig: k8s.KubeConfig;
  metricsUrl: string;
  /** The live dashboard (read-only), or undefined when it could not start (the story goes on). */
  dashboardUrl: string | undefined;
  controllerLog: string;
  workDir: string;
  /** Runs the three commits; resolves with the final phases of v2 and v3. */
  play(): Promise<{ v2: string; v3: string }>;
  /** Process ids of every pod process the data plane started so far (to check none outlives stop()). */
  localPids(): number[];
  stop(): Promise<void>;
}

/**
 * Weir's main job on a laptop: a local control plane, Prometheus, a
 * Slack-compatible receiver and the controller; a Git server on loopback and
 * Flux's source-controller and kustomize-controller applying what is pushed to
 * it; v1 bootstraps, v2 (healthy) is promoted step by step, v3 (30 % errors) is
 * rolled back. The data plane is real too: in a network namespace holding the pod
 * network, the pods run as processes on their pod IPs (a pod runner plays the
 * kubelet), Traefik implements the Gateway API, and steady load goes through it.
 */
export async function setUpStory(out: StoryOutput): Promise<Story> {
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const workDir = mkdtempSync(path.join(tmpdir(), 'weir-demo-'));
    cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));
    const t0 = Date.now();
    out.say(
      'starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, KWOK) ...',
    );
    const cluster = await startCluster({ nodes: 2, podRunner: true });
    cleanups.push(() => cluster.stop());
    out.say(
      `cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${cluster.runtime} runtime)`,
    );
    await cluster.kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    out.say('installed the Weir CRDs (crds/) and the Gateway API CRDs');
    const gitServer = await startGitServer();
    cleanups.push(() => gitServer.stop());
    const flux = await startFlux(cluster);
    cleanups.push(() => flux.stop());
    out.say(
      `Flux's source-controller and kustomize-controller are running; a Git server listens at ${gitServer.url('shop')}`,
    );

    const [metricsPort, probePort] = await Promise.all([freePort(), freePort()]);
    const podPids = new Set<number>();
    const podIps = new Map<string, string>();
    const terminating = new Set<string>();
    const dataPlane = await startDataPlane(cluster, {
      hostJobs: [{ job: 'weir', targets: [`127.0.0.1:${metricsPort}`] }],
      scrapeIntervalSeconds: 2,
      onPodEvent: (e) => {
        // Stopping ends every pod process: no news.
        if (e.namespace !== namespace || stopping) return;
        switch (e.what) {
          case 'started':
            podIps.set(e.pod, e.detail?.split(':')[0] ?? '?');
            if (e.pid) podPids.add(e.pid);
            break;
          case 'ready':
            out.say(`pod ${e.pod} is Ready at ${podIps.get(e.pod)}`);
            break;
          case 'terminating':
            terminating.add(e.pod);
            out.say(`pod ${e.pod} is terminating (preStop sleep, then SIGTERM)`);
            break;
          case 'exited':
            if (!terminating.has(e.pod)) out.say(`pod ${e.pod} exited on its own: ${e.detail}`);
            break;
          case 'unknown-image':
            out.say(`pod ${e.pod} does not run here: unknown image ${e.detail}`);
            break;
          case 'deleted':
            podIps.delete(e.pod);
            terminating.delete(e.pod);
        }
      },
    });
    cleanups.push(() => dataPlane.stop());
    const prometheus = dataPlane.prometheus;
    out.say(
      'the data plane is up: in a network namespace holding the pod network, ' +
        `Traefik serves the Gateway API at ${dataPlane.gatewayUrl} and Prometheus (${prometheus.url}) ` +
        'scrapes Traefik, the controller and every pod annotated prometheus.io/scrape',
    );

    const slack = await startSlackReceiver((m) => out.slack(m));
    cleanups.push(() => slack.stop());
    out.say(
      'a Slack-compatible receiver is listening; its messages are printed below as they arrive',
    );

    const controllerLog = path.join(workDir, 'weir-controller.log');
    const log = createWriteStream(controllerLog);
    const controller = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'src/main.ts'),
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--health-probe-bind-address=127.0.0.1:${probePort}`,
        `--metrics-server=${prometheus.url}`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    controller.stdout.pipe(log);
    controller.stderr.pipe(log);
    const exited = new Promise<void>((resolve) => controller.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (controller.exitCode === null) controller.kill('SIGTERM');
      await exited;
    });
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok
          ? true
          : undefined,
      { timeoutMs: 60_000, what: 'the controller to be ready' },
    );
    out.say(`the Weir controller is running (log: ${controllerLog})`);

    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);

    // The dashboard, live through the whole story. Read-only: the story is GitOps (each
    // release is a commit), and a click must not change its ending; `weir dashboard` on
    // the same KUBECONFIG offers the actions. The story is the main job: a dashboard that
    // does not start is reported, not fatal.
    let dashboardUrl: string | undefined;
    try {
      const dashboard = await startDashboard({
        kubeConfig,
        readOnly: true,
        logger: createLogger('warn', createWriteStream(path.join(workDir, 'weir-dashboard.log'))),
        assets: pageAssets,
      });
      cleanups.push(() => dashboard.close());
      dashboardUrl = dashboard.url;
      out.say(`the dashboard is live at ${dashboardUrl} (read-only)`);
    } catch (err) {
      out.say(`the dashboard did not start (${(err as Error).message}); going on without it`);
    }

    // Steady load on the Gateway, as users would send it; Traefik splits it by the HTTPRoute.
    const load = new SteadyLoad(`${dataPlane.gatewayUrl}/`, 20);
    let loadStarted = false;
    cleanups.push(async () => {
      if (loadStarted) await load.stop();
    });
    const backends = [`${app}-primary`, `${app}-canary`];
    /** Requests Traefik counted per backend Service so far (its services are `<ns>-<svc>-<port>@<provider>`). */
    const gatewayTotals = async (): Promise<Record<string, number>> => {
      const totals: Record<string, number> = {};
      for (const [service, codes] of Object.entries(await dataPlane.serviceRequests())) {
        const backend = backends.find((b) => service.startsWith(`${namespace}-${b}-`));
        if (backend)
          totals[backend] =
            (totals[backend] ?? 0) + Object.values(codes).reduce((a, c) => a + c, 0);
      }
      return totals;
    };
    const traffic: Record<string, ReleaseTraffic> = {};
    let release: ReleaseTraffic | undefined;
    let seen: Record<string, number> = {};
    let lastReport = Date.now();
    /**
     * Prints what the gateway did since the last report, from Traefik's own counters,
     * next to the weight Weir set, and what the load generator saw; adds it to the release.
     */
    const reportTraffic = async (canaryWeight: number | undefined) => {
      const seconds = (Date.now() - lastReport) / 1000;
      lastReport = Date.now();
      const totals = await gatewayTotals().catch(() => undefined);
      if (!totals) return;
      const sent = Object.fromEntries(
        backends.map((b) => [b, Math.max(0, (totals[b] ?? 0) - (seen[b] ?? 0))]),
      );
      seen = totals;
      const counts: LoadCounts = load.take();
      if (release) {
        for (const [b, n] of Object.entries(sent))
          release.gateway[b] = (release.gateway[b] ?? 0) + n;
        release.sent += counts.total;
        release.failed += counts.failed;
        for (const [answer, n] of Object.entries(counts.answers))
          if (!/^2\d\d /.test(answer))
            release.failures[answer] = (release.failures[answer] ?? 0) + n;
      }
      const total = Object.values(sent).reduce((a, n) => a + n, 0);
      // A moment's traffic (a release starting right after a report) only goes on the record.
      if ((total === 0 && counts.total === 0) || seconds < 2) return;
      const split = total
        ? backends.map((b) => `${b} ${Math.round((100 * sent[b]!) / total)} %`).join(', ')
        : 'nothing';
      const failures = describeAnswers(
        Object.entries(counts.answers).filter(([answer]) => !/^2\d\d /.test(answer)),
      );
      out.say(
        `last ${seconds.toFixed(0)} s through the gateway (Traefik's counts): ${split} of ${total} | ` +
          `Weir's canary weight now ${canaryWeight ?? 0} % | ` +
          `load: ${counts.failed} of ${counts.total} failed${failures ? ` (${failures})` : ''}`,
      );
    };
    /** Closes the previous release's traffic record and opens one for `version`. */
    const beginRelease = async (version: string, canaryWeight: number | undefined) => {
      if (loadStarted) await reportTraffic(canaryWeight);
      release = traffic[version] = { gateway: {}, sent: 0, failed: 0, failures: {} };
    };

    gitServer.createRepo('shop');
    const repo = new WorkingCopy(gitServer.url('shop'));
    cleanups.push(async () => repo.remove());
    const deployDir = path.join(repo.dir, 'deploy', app);
    const manifest = path.join(deployDir, 'deployment.yaml');
    const kustomization = async () =>
      (await objects.read({
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'shop', namespace: fluxNamespace },
      })) as {
        status?: {
          lastAttemptedRevision?: string;
          conditions?: { type: string; status: string; reason?: string; message?: string }[];
        };
      };
    const fluxReady = async () =>
      (await kustomization().catch(() => undefined))?.status?.conditions?.find(
        (c) => c.type === 'Ready',
      );
    const image = async () =>
      (
        (await objects.read({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: app, namespace },
        })) as k8s.V1Deployment
      ).spec?.template.spec?.containers[0]?.image;
    /** Commits the change, pushes it, and waits until Flux has applied it. */
    const commitAndPush = async (message: string, edit?: (yaml: string) => string) => {
      if (edit) writeFileSync(manifest, edit(readFileSync(manifest, 'utf8')));
      const want = /image: (\S+)/.exec(readFileSync(manifest, 'utf8'))?.[1];
      const sha = await repo.commitAndPush(message);
      out.say(`git commit ${sha.slice(0, 7)} "${message}" → git push (Flux applies it)`);
      await waitFor(
        async () =>
          (await kustomization().catch(() => undefined))?.status?.lastAttemptedRevision?.endsWith(
            sha,
          ) && (await image().catch(() => undefined)) === want
            ? true
            : undefined,
        { timeoutMs: 120_000, intervalMs: 250, what: `Flux to apply ${sha.slice(0, 7)}` },
      );
      out.say(`Flux applied ${sha.slice(0, 7)} to the cluster`);
    };
    const canary = async () =>
      (await objects.read({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name: app, namespace },
      })) as Canary;

    /**
     * Follows the Canary until `phase` and Flux's health check agreeing with it, printing
     * each change of phase, weight, failed checks or the Kustomization's Ready.
     */
    const follow = async (phases: string[], what: string): Promise<string> => {
      let last = '';
      const settled: Record<string, string> = {
        Initialized: 'True',
        Succeeded: 'True',
        Failed: 'False',
      };
      return waitFor(
        async () => {
          const s = (await canary()).status;
          const ready = await fluxReady();
          const flux = ready ? `${ready.status} (${ready.reason})` : 'not yet';
          const line = `${s?.phase ?? '-'} weight ${s?.canaryWeight ?? 0}% failed checks ${s?.failedChecks ?? 0}/${2} | Flux Kustomization Ready: ${flux}`;
          if (line !== last) {
            out.say(`frontend: ${line}`);
            last = line;
          }
          if (loadStarted && Date.now() - lastReport >= 5_000) await reportTraffic(s?.canaryWeight);
          if (!s?.phase || !phases.includes(s.phase) || ready?.status !== settled[s.phase])
            return undefined;
          if (ready?.status === 'False') out.say(`Flux says: ${ready.message}`);
          const stalled = s.conditions?.find((c) => c.type === 'Stalled');
          if (stalled) out.say(`the Canary says why (Stalled): ${stalled.message}`);
          return s.phase;
        },
        { timeoutMs: 300_000, intervalMs: 500, what },
      );
    };

    const play = async () => {
      mkdirSync(deployDir, { recursive: true });
      for (const f of [
        'namespace.yaml',
        'gateway.yaml',
        'deployment.yaml',
        'canary.yaml',
        'metric-template.yaml',
        'alert-provider.yaml',
      ])
        cpSync(path.join(repoRoot, 'examples/demo', f), path.join(deployDir, f));
      out.say(`cloned the (empty) Git repository into ${repo.dir}`);
      await cluster.kubectl([
        'apply',
        '--server-side',
        '-f',
        path.join(deployDir, 'namespace.yaml'),
      ]);
      // Not in Git: the Slack webhook URL is a credential (here, the local receiver).
      await cluster.kubectl([
        'create',
        'secret',
        'generic',
        'slack-webhook',
        '-n',
        namespace,
        `--from-literal=address=${slack.url}`,
      ]);
      // Weir reads credentials only from Secrets labelled for it.
      await cluster.kubectl([
        'label',
        'secret',
        'slack-webhook',
        '-n',
        namespace,
        'weir.dev/credentials=true',
      ]);
      out.say('created the Secret slack-webhook outside Git, as a secret store would');

      await flux.sync({
        name: 'shop',
        url: gitServer.url('shop'),
        path: `./deploy/${app}`,
        interval: '5s',
        timeout: '5m',
      });
      out.say(
        `Flux syncs ${gitServer.url('shop')} (deploy/${app}) every 5 s, health checks on (wait: true)`,
      );
      await beginRelease('1.0.0', 0);
      await commitAndPush('frontend 1.0.0: first deployment with a Canary');
      await follow(['Initialized'], 'frontend to be initialized');
      // Users arrive once the app is served: until Traefik has read the route and a Ready
      // frontend-primary, it answers 404, 500 or 503, which says nothing about a release.
      await waitFor(
        async () =>
          (await sendRequests(`${dataPlane.gatewayUrl}/`, 1, { timeoutMs: 2_000 })).failed === 0
            ? true
            : undefined,
        { timeoutMs: 60_000, what: 'the gateway to serve frontend-primary' },
      );
      load.start();
      loadStarted = true;
      lastReport = Date.now();
      out.say('bootstrapped: frontend-primary serves all traffic, frontend is scaled to zero');
      out.say(`steady load: 20 requests/s to the Gateway (${dataPlane.gatewayUrl}/)`);

      await beginRelease('1.0.1', (await canary()).status?.canaryWeight);
      await commitAndPush('frontend 1.0.1: faster product listing', (y) =>
        y
          .replace('weir-demo-app:1.0.0', 'weir-demo-app:1.0.1')
          .replace("value: '1.0.0'", "value: '1.0.1'"),
      );
      const v2 = await follow(['Succeeded', 'Failed'], 'the 1.0.1 release to finish');
      await beginRelease('1.0.2', (await canary()).status?.canaryWeight);
      await commitAndPush('frontend 1.0.2: new checkout (with a bug: 30 % of requests fail)', (y) =>
        y
          .replace('weir-demo-app:1.0.1', 'weir-demo-app:1.0.2')
          .replace("value: '1.0.1'", "value: '1.0.2'")
          .replace(/(name: ERROR_RATE\n\s+value: )'0'/, "$1'0.3'"),
      );
      const v3 = await follow(['Succeeded', 'Failed'], 'the 1.0.2 release to finish');
      await new Promise((r) => setTimeout(r, 1_500)); // let the last Slack message arrive
      await reportTraffic((await canary()).status?.canaryWeight);
      // The first deployment had no release traffic: the load starts once it is served.
      for (const [version, t] of Object.entries(traffic))
        if (t.sent > 0) out.say(`traffic during ${version}: ${describeTraffic(t)}`);
      out.block(await history({ kubeConfig, namespace }, app));
      return { v2, v3 };
    };

    return {
      cluster,
      prometheus,
      gatewayUrl: dataPlane.gatewayUrl,
      traffic,
      slackMessages: slack.received,
      kubeConfig,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      dashboardUrl,
      controllerLog,
      workDir,
      play,
      localPids: () => [...podPids],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The CanaryRuns of the demo app, oldest first. */
export async function demoRuns(kubeConfig: k8s.KubeConfig): Promise<CanaryRun[]> {
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group: 'weir.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'canaryruns',
  })) as { items: CanaryRun[] };
  return list.items.sort((a, b) => a.spec.startTime.localeCompare(b.spec.startTime));
}

/** One release's traffic in a line: the gateway's split and the failed requests. */
export function describeTraffic(t: ReleaseTraffic): string {
  const split = Object.entries(t.gateway)
    .map(([b, n]) => `${b} ${n}`)
    .join(', ');
  const failures = describeAnswers(Object.entries(t.failures));
  return `${t.sent} sent, Traefik routed ${split || 'none'}, ${t.failed} failed${failures ? ` (${failures})` : ''}`;
}

/** Answers by `<status> <body>` (or `no answer: <why>`) and count, as `503 "no available server" ×41`. */
function describeAnswers(answers: [string, number][]): string {
  return answers
    .map(([answer, n]) => {
      const m = /^(\d{3}) (.*)$/s.exec(answer);
      return `${m ? `${m[1]} "${m[2]!.slice(0, 50)}"` : answer.slice(0, 60)} ×${n}`;
    })
    .join('; ');
}

export { toolPath };
