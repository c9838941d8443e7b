import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { freePort } from './ports.js';
import type { ScrapeJob } from './prometheus.js';
import { toolPath } from './tools.js';
import { waitFor } from './wait.js';
import { stopChildren } from './children.js';

/** A real VictoriaMetrics single-node server on loopback, scraping like Prometheus. */
export interface VictoriaMetrics {
  /** Its Prometheus-compatible API: `${url}/api/v1/query`. */
  readonly url: string;
  /** Instant query: the number of series with a value, by `job`. */
  jobsWithData(promql: string): Promise<Set<string>>;
  stop(): Promise<void>;
}

/**
 * Starts VictoriaMetrics (built from its Go module by hack/build-tools.sh) with a
 * Prometheus scrape configuration of loopback targets, every second, and no latency offset
 * (by default VictoriaMetrics leaves the newest 30 s out of queries).
 */
export async function startVictoriaMetrics(jobs: ScrapeJob[]): Promise<VictoriaMetrics> {
  for (const job of jobs)
    for (const target of job.targets)
      if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(target))
        throw new Error(`Scrape target "${target}" is not a loopback host:port`);
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-vm-'));
  const port = await freePort();
  const config = path.join(dir, 'scrape.yml');
  writeFileSync(
    config,
    yaml.dump({
      global: { scrape_interval: '1s' },
      scrape_configs: jobs.map((j) => ({
        job_name: j.job,
        metrics_path: j.metricsPath ?? '/metrics',
        static_configs: [{ targets: j.targets, labels: j.labels ?? {} }],
      })),
    }),
  );
  const child = spawn(
    toolPath('victoria-metrics'),
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${path.join(dir, 'data')}`,
      `-promscrape.config=${config}`,
      '-search.latencyOffset=0s',
      '-retentionPeriod=1d',
      '-loggerLevel=WARN',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(path.join(dir, 'victoria-metrics.log'));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const stop = async () => {
    await stopChildren([child]);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error('victoria-metrics exited at start');
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).catch(
          () => undefined,
        );
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'VictoriaMetrics to answer /health' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async jobsWithData(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as {
        data?: { result?: { metric: Record<string, string> }[] };
      };
      return new Set((body.data?.result ?? []).map((r) => r.metric.job ?? ''));
    },
    stop,
  };
}
