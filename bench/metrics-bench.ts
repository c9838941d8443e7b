/**
 * Metric analysis at scale: N canaries with one built-in metric each, analysed
 * every 10 s, against a real Prometheus scraping request histograms for every
 * canary and primary pod. Prints query latency, queries per second and outcome
 * counts; asserts nothing.
 * Usage: npm run bench:metrics [-- --canaries 1000 --seconds 30 --interval 10]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Canary } from '../src/api/types.js';
import { MetricChecks } from '../src/analysis/metric-checks.js';
import { MetricProviderRegistry } from '../src/analysis/metric-registry.js';
import { prometheusProvider } from '../src/analysis/prometheus-provider.js';
import { startPrometheus } from '../test/harness/prometheus.js';
import { selectRuntime } from '../test/harness/runtime.js';
import { waitFor } from '../test/harness/wait.js';

const { values } = parseArgs({
  options: {
    canaries: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    interval: { type: 'string', default: '10' },
  },
});
const n = Number(values.canaries);
const seconds = Number(values.seconds);
const intervalS = Number(values.interval);

// One exporter stands in for 2·N pods: a request histogram per canary and primary pod,
// fed continuously so every rate() has data.
const exporter = new Registry();
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Request latency.',
  labelNames: ['namespace', 'pod', 'code'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [exporter],
});
new Counter({ name: 'bench_up', help: 'Always 1.', registers: [exporter] }).inc();
const pods = (i: number) => [`app-${i}-7d9f8c6b5-x2k4p`, `app-${i}-primary-5c8d7f9b4-q7w2e`];
const feed = () => {
  for (let i = 0; i < n; i++)
    for (const pod of pods(i)) {
      duration.observe({ namespace: `team-${i % 50}`, pod, code: '200' }, Math.random() * 0.05);
      if (Math.random() < 0.01)
        duration.observe({ namespace: `team-${i % 50}`, pod, code: '500' }, 0.01);
    }
};
feed();
const feeder = setInterval(feed, 1000);
const server = createServer((_req, res) => {
  void exporter
    .metrics()
    .then((body) => res.writeHead(200, { 'content-type': exporter.contentType }).end(body));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;

const prometheus = await startPrometheus({
  jobs: [{ job: 'apps', targets: [target] }],
  scrapeIntervalSeconds: 5,
  runtime: selectRuntime(process.env.WEIR_HARNESS_RUNTIME ?? 'process'),
});
const stopAll = async () => {
  clearInterval(feeder);
  server.closeAllConnections();
  server.close();
  await prometheus.stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const window = '30s';
  process.stdout.write(`Waiting for ${window} of data for ${2 * n} pods in Prometheus …\n`);
  await waitFor(
    async () => {
      const r = await prometheus.query(
        `count(rate(http_request_duration_seconds_count{code="200"}[${window}]) > 0)`,
      );
      return r[0] && r[0].value >= 2 * n ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 2_000, what: 'rates for every pod' },
  );

  const registry = new Registry();
  const checks = new MetricChecks({
    registry: new MetricProviderRegistry().register('prometheus', prometheusProvider),
    templates: () => undefined,
    secrets: () => undefined,
    defaultAddress: prometheus.url,
    defaultProvider: 'gatewayapi',
    crossNamespaceRefs: true,
    metrics: registry,
    now: () => Date.now(),
  });
  const canaries: Canary[] = Array.from({ length: n }, (_, i) => ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: `app-${i}`, namespace: `team-${i % 50}` },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `app-${i}` },
      service: { port: 80 },
      analysis: {
        interval: `${intervalS}s`,
        metrics: [{ name: 'request-success-rate', interval: window, thresholdRange: { min: 90 } }],
      },
    },
  })) as Canary[];

  // Each canary's step is due once per interval, spread evenly, as the work queue would spread them.
  const latencies: number[] = [];
  const outcomes = { passed: 0, failed: 0 };
  const failures = new Map<string, number>();
  const inflight = new Set<Promise<void>>();
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  const end = started + seconds * 1000;
  const gapMs = (intervalS * 1000) / n;
  let next = started;
  let i = 0;
  while (Date.now() < end) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
    while (next <= Date.now() && next < end) {
      const canary = canaries[i % n]!;
      i += 1;
      next += gapMs;
      const t0 = performance.now();
      const p = checks
        .run(canary, {
          revision: 'r',
          phase: 'Progressing',
          weight: 10,
          iterations: 1,
          hooks: [],
          measure: true,
          signal: AbortSignal.timeout(10_000),
        })
        .then((o) => {
          latencies.push(performance.now() - t0);
          if (o.passed) outcomes.passed += 1;
          else {
            outcomes.failed += 1;
            const why = (o.failures[0] ?? '').replace(/\d+(\.\d+)?/g, 'N');
            failures.set(why, (failures.get(why) ?? 0) + 1);
          }
        });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }
  await Promise.all(inflight);
  const elapsedS = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const result = {
    canaries: n,
    intervalSeconds: intervalS,
    measuredSeconds: Number(elapsedS.toFixed(1)),
    queries: latencies.length,
    queriesPerSecond: Number((latencies.length / elapsedS).toFixed(1)),
    latencyMs: {
      p50: Number(pct(0.5).toFixed(1)),
      p99: Number(pct(0.99).toFixed(1)),
      max: Number(pct(1).toFixed(1)),
    },
    checks: outcomes,
    failureKinds: Object.fromEntries(failures),
    controllerCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    cores: cpus().length,
    prometheus: await prometheusVersion(prometheus.url),
  };
  process.stdout.write(
    [
      '',
      `Metric analysis: ${n} canaries × 1 metric, every ${intervalS}s, ${result.measuredSeconds}s measured (${result.cores} cores)`,
      '',
      '| queries | queries/s | p50 | p99 | max | passed | failed | bench CPU s (with exporter) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${result.queries} | ${result.queriesPerSecond} | ${result.latencyMs.p50} ms | ${result.latencyMs.p99} ms | ${result.latencyMs.max} ms | ${outcomes.passed} | ${outcomes.failed} | ${result.controllerCpuSeconds} |`,
      '',
      JSON.stringify(result),
      '',
    ].join('\n'),
  );
} finally {
  await stopAll();
}

async function prometheusVersion(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { data?: { version?: string } };
  return body.data?.version ?? 'unknown';
}
