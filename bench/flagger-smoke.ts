/**
 * Flagger smoke run: proves the Flagger built by hack/build-flagger.sh releases a
 * canary on the local cluster, so the scale benchmark can measure it next to Weir.
 * Starts the KWOK cluster (Gateway API CRDs), a real Prometheus scraping a small
 * instrumented app, Flagger's CRDs and Flagger itself; creates a Deployment, a
 * MetricTemplate (request success rate) and a flagger.app Canary (Gateway API,
 * 10 s interval, stepWeight 10, maxWeight 50); waits for Initialized, changes the
 * image and follows the release to Succeeded, printing each phase and weight.
 * Every wait is bounded; on a stall it prints Flagger's Events and log tail.
 * Prints figures; asserts no duration.
 *
 * Usage: npm run bench:flagger-smoke [-- --with-weir-crds]
 *   --with-weir-crds  also install Weir's CRDs (weir.dev), to show both groups'
 *                     `canaries` coexist
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from '../test/harness/cluster.js';
import { startMetricsApp, type MetricsApp } from '../test/harness/metrics-app.js';
import { startPrometheus, type PrometheusServer } from '../test/harness/prometheus.js';
import { waitFor } from '../test/harness/wait.js';
import { clientsFor, createDeployment, installWeirCrds, setImage } from '../test/harness/weir.js';
import {
  fillCommand,
  flaggerCommandTemplate,
  flaggerDir,
  installFlaggerCrds,
  startControllerProcess,
  type ControllerProcess,
} from './flagger.js';

const { values } = parseArgs({ options: { 'with-weir-crds': { type: 'boolean' } } });
const namespace = 'shop';
const name = 'podinfo';
const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (msg: string) => console.log(`${stamp().padStart(8)}  ${msg}`);

interface FlaggerCanary {
  status?: {
    phase?: string;
    canaryWeight?: number;
    failedChecks?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

let cluster: Cluster | undefined;
let prometheus: PrometheusServer | undefined;
let app: MetricsApp | undefined;
let flagger: ControllerProcess | undefined;
let traffic: NodeJS.Timeout | undefined;
let workDir: string | undefined;

async function cleanup(): Promise<void> {
  clearInterval(traffic);
  await flagger?.stop();
  await prometheus?.stop();
  await app?.stop();
  await cluster?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const buildStart = Date.now();
  const dir = flaggerDir();
  say(`flagger ready in ${dir} (${((Date.now() - buildStart) / 1000).toFixed(1)}s, 0 if cached)`);
  workDir = await mkdtemp(path.join(tmpdir(), 'weir-flagger-smoke-'));
  const logFile = path.join(workDir, 'flagger.log');

  cluster = await startCluster({ nodes: 2 });
  say(`cluster up at ${cluster.server}`);
  await installFlaggerCrds(cluster, dir);
  if (values['with-weir-crds']) await installWeirCrds(cluster);
  say(`CRDs installed: flagger.app${values['with-weir-crds'] ? ' and weir.dev' : ''}`);

  // Real request metrics: an instrumented app on loopback, fed a request every
  // 100 ms (bounded by the run), scraped every second.
  app = await startMetricsApp({ version: 'v1' });
  traffic = setInterval(() => {
    void fetch(app!.url, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
  }, 100);
  prometheus = await startPrometheus({ jobs: [{ job: 'podinfo', targets: [app.target] }] });
  const successRate =
    'sum(rate(http_requests_total{job="podinfo",code!~"5.."}[{{ interval }}])) / ' +
    'sum(rate(http_requests_total{job="podinfo"}[{{ interval }}])) * 100';
  await waitFor(
    async () =>
      (await prometheus!.query(successRate.replaceAll('{{ interval }}', '30s')))[0]?.value,
    { timeoutMs: 60_000, what: 'the success-rate query to return a value' },
  );
  say(`prometheus at ${prometheus.url} answers the success-rate query`);

  const { objects, apps } = clientsFor(cluster);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await createDeployment(apps, namespace, name, 2);
  await objects.create({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    metadata: { name: 'success-rate', namespace },
    // Flagger's templates carry their own address; -metrics-server is for built-ins only.
    spec: { provider: { type: 'prometheus', address: prometheus.url }, query: successRate },
  });

  const template = flaggerCommandTemplate(dir);
  const argv = fillCommand(template, {
    kubeconfig: cluster.kubeconfigPath,
    prometheus: prometheus.url,
  });
  flagger = startControllerProcess(argv, logFile);
  say(`started: ${argv.join(' ')}`);

  await objects.create({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      provider: 'gatewayapi:v1',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      progressDeadlineSeconds: 120,
      // No Gateway object is created: Flagger only names it in the HTTPRoute's parentRefs.
      service: { port: 9898, gatewayRefs: [{ name: 'public', namespace }] },
      analysis: {
        interval: '10s',
        threshold: 2,
        stepWeight: 10,
        maxWeight: 50,
        metrics: [
          {
            name: 'success-rate',
            templateRef: { name: 'success-rate', namespace },
            thresholdRange: { min: 99 },
            interval: '30s',
          },
        ],
      },
    },
  });
  say('Canary flagger.app/v1beta1 shop/podinfo created');

  const read = async () =>
    (await objects.read({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace },
    })) as FlaggerCanary;
  const routeWeights = async (): Promise<string> => {
    try {
      const route = (await objects.read({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name, namespace },
      })) as { spec?: { rules?: { backendRefs?: { name: string; weight?: number }[] }[] } };
      const refs = route.spec?.rules?.at(-1)?.backendRefs ?? [];
      return refs.map((b) => `${b.name}=${b.weight}`).join(' ');
    } catch {
      return 'no HTTPRoute';
    }
  };
  let last = '';
  /** Polls the Canary every 500 ms, printing each change, until `phase` or a bound. */
  const follow = async (phase: string, timeoutMs: number) =>
    waitFor(
      async () => {
        if (flagger!.child.exitCode !== null)
          throw new Error(`flagger exited with code ${flagger!.child.exitCode}`);
        const c = await read();
        const now = `phase=${c.status?.phase ?? '-'} weight=${c.status?.canaryWeight ?? '-'} route: ${await routeWeights()}`;
        if (now !== last) say((last = now));
        if (c.status?.phase === 'Failed') throw new Error('the canary Failed');
        return c.status?.phase === phase ? c : undefined;
      },
      { timeoutMs, intervalMs: 500, what: `Canary phase ${phase}` },
    );

  await follow('Initialized', 180_000);
  await setImage(apps, namespace, name, `example.test/${name}:2`);
  say('image changed to example.test/podinfo:2');
  await follow('Progressing', 120_000);
  const final = await follow('Succeeded', 300_000);
  const primary = await apps.readNamespacedDeployment({ name: `${name}-primary`, namespace });
  say(`Succeeded; primary image ${primary.spec?.template.spec?.containers[0]?.image}`);
  say(`conditions: ${JSON.stringify(final.status?.conditions?.map((c) => [c.type, c.reason]))}`);
  await reportLog(logFile);
  console.log(`\nbench start command (placeholders): ${template}`);
}

/** Prints how many lines Flagger logged per level, and its warnings and errors. */
async function reportLog(file: string): Promise<void> {
  const levels = new Map<string, number>();
  const notable: string[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n').filter(Boolean)) {
    let level = 'unparsed';
    try {
      level = String((JSON.parse(line) as { level?: string }).level ?? 'none');
    } catch {
      // klog or Go runtime output that is not zap JSON
    }
    levels.set(level, (levels.get(level) ?? 0) + 1);
    if (level !== 'info' && level !== 'debug') notable.push(line);
  }
  say(`flagger log lines by level: ${JSON.stringify(Object.fromEntries(levels))}`);
  for (const line of notable.slice(0, 15)) console.log(`    ${line}`);
}

main()
  .catch(async (err: unknown) => {
    console.error(`flagger-smoke: ${err instanceof Error ? err.message : String(err)}`);
    if (cluster) {
      const events = await cluster
        .kubectl(['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp'])
        .catch(() => '');
      console.error(`--- events in ${namespace} ---\n${events}`);
    }
    if (workDir) {
      const log = await readFile(path.join(workDir, 'flagger.log'), 'utf8').catch(() => '');
      console.error(
        `--- flagger log (last 40 lines) ---\n${log.split('\n').slice(-40).join('\n')}`,
      );
    }
    process.exitCode = 1;
  })
  .finally(cleanup);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
