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
import { startCluster, type Cluster } from '../../test/harness/cluster.js';
import { fluxNamespace, startFlux } from '../../test/harness/flux.js';
import { startGitServer, WorkingCopy } from '../../test/harness/git-server.js';
import { freePort } from '../../test/harness/ports.js';
import { startPrometheus, type PrometheusServer } from '../../test/harness/prometheus.js';
import { repoRoot, toolPath } from '../../test/harness/tools.js';
import { waitFor } from '../../test/harness/wait.js';
import { LocalPods } from './local-pods.js';
import { startSlackReceiver, type ReceivedMessage } from './slack-receiver.js';
import { TrafficSplitter } from './traffic.js';

export const namespace = 'shop';
export const app = 'frontend';

/** How the story reports to the person watching. */
export interface StoryOutput {
  say(line: string): void;
  slack(message: ReceivedMessage): void;
  block(text: string): void;
}

/** What the story leaves for callers (the CLI and the test) to look at and stop. */
export interface Story {
  cluster: Cluster;
  prometheus: PrometheusServer;
  slackMessages: ReceivedMessage[];
  kubeConfig: k8s.KubeConfig;
  metricsUrl: string;
  controllerLog: string;
  workDir: string;
  /** Runs the three commits; resolves with the final phases of v2 and v3. */
  play(): Promise<{ v2: string; v3: string }>;
  /** Process ids of every local pod process started so far (to check none outlives stop()). */
  localPids(): number[];
  stop(): Promise<void>;
}

/**
 * Weir's main job on a laptop: a local control plane, Prometheus, a
 * Slack-compatible receiver and the controller; a Git server on loopback and
 * Flux's source-controller and kustomize-controller applying what is pushed to
 * it; v1 bootstraps, v2 (healthy) is promoted step by step, v3 (30 % errors) is
 * rolled back. Every part is real except the data plane: KWOK pods run as local
 * processes and a traffic generator splits requests by the weights in the HTTPRoute.
 */
export async function setUpStory(out: StoryOutput): Promise<Story> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const workDir = mkdtempSync(path.join(tmpdir(), 'weir-demo-'));
    cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));
    const t0 = Date.now();
    out.say(
      'starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, KWOK) ...',
    );
    const cluster = await startCluster({ nodes: 2 });
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

    const [metricsPort, probePort, primaryPort, canaryPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const prometheus = await startPrometheus({
      jobs: [
        { job: 'weir', targets: [`127.0.0.1:${metricsPort}`] },
        { job: 'frontend-primary', targets: [`127.0.0.1:${primaryPort}`] },
        { job: 'frontend-canary', targets: [`127.0.0.1:${canaryPort}`] },
      ],
      scrapeIntervalSeconds: 2,
    });
    cleanups.push(() => prometheus.stop());
    out.say(`Prometheus is up at ${prometheus.url}, scraping the controller and the app`);

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

    const pods = new LocalPods({
      kubeConfig,
      namespace,
      roles: [
        { deployment: app, port: canaryPort },
        { deployment: `${app}-primary`, port: primaryPort },
      ],
      logDir: workDir,
      onChange: (d, pod, env) =>
        out.say(
          pod
            ? `pod ${pod} (${d}) runs locally: version ${env.APP_VERSION ?? '?'}, error rate ${env.ERROR_RATE ?? '0'}`
            : `${d} has no pods: its local process stopped`,
        ),
    });
    cleanups.push(() => pods.stop());
    const traffic = new TrafficSplitter({
      objects,
      namespace,
      route: app,
      backends: {
        [`${app}-primary`]: `http://127.0.0.1:${primaryPort}/`,
        [`${app}-canary`]: `http://127.0.0.1:${canaryPort}/`,
      },
      fallback: `${app}-primary`,
      rps: 20,
    });
    cleanups.push(() => traffic.stop());

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
      let lastTraffic = Date.now();
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
          if (Date.now() - lastTraffic > 5_000) {
            const counts = traffic.take();
            const parts = Object.entries(counts).map(
              ([b, c]) => `${b} ${c.ok} ok${c.failed ? `, ${c.failed} failed` : ''}`,
            );
            if (parts.length)
              out.say(`traffic (last 5 s, split by the HTTPRoute weights): ${parts.join('; ')}`);
            lastTraffic = Date.now();
          }
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
      await commitAndPush('frontend 1.0.0: first deployment with a Canary');
      pods.start();
      traffic.start();
      await follow(['Initialized'], 'frontend to be initialized');
      out.say('bootstrapped: frontend-primary serves all traffic, frontend is scaled to zero');

      await commitAndPush('frontend 1.0.1: faster product listing', (y) =>
        y
          .replace('weir-demo-app:1.0.0', 'weir-demo-app:1.0.1')
          .replace("value: '1.0.0'", "value: '1.0.1'"),
      );
      const v2 = await follow(['Succeeded', 'Failed'], 'the 1.0.1 release to finish');
      await commitAndPush('frontend 1.0.2: new checkout (with a bug: 30 % of requests fail)', (y) =>
        y
          .replace('weir-demo-app:1.0.1', 'weir-demo-app:1.0.2')
          .replace("value: '1.0.1'", "value: '1.0.2'")
          .replace(/(name: ERROR_RATE\n\s+value: )'0'/, "$1'0.3'"),
      );
      const v3 = await follow(['Succeeded', 'Failed'], 'the 1.0.2 release to finish');
      await new Promise((r) => setTimeout(r, 1_500)); // let the last Slack message arrive
      out.block(await history({ kubeConfig, namespace }, app));
      return { v2, v3 };
    };

    return {
      cluster,
      prometheus,
      slackMessages: slack.received,
      kubeConfig,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      controllerLog,
      workDir,
      play,
      localPids: () => [...pods.pids],
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

export { toolPath };
