import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { freePort } from './ports.js';
import { component, selectRuntime, type ComponentRuntime, type Running } from './runtime.js';
import { waitFor } from './wait.js';

/** A scrape job: loopback targets (`127.0.0.1:port`) and their metrics path. */
export interface ScrapeJob {
  job: string;
  targets: string[];
  metricsPath?: string;
  labels?: Record<string, string>;
}

/** Options for {@link startPrometheus}. */
export interface PrometheusOptions {
  jobs: ScrapeJob[];
  /** Scrape and evaluation interval in seconds (default 1: tests want data fast). */
  scrapeIntervalSeconds?: number;
  runtime?: ComponentRuntime;
  timeoutMs?: number;
  /**
   * Scrape configurations passed as they are (e.g. Kubernetes service discovery),
   * for a Prometheus inside the data plane's network namespace only.
   */
  scrapeConfigs?: Record<string, unknown>[];
}

/** One sample of an instant-query result vector. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** A running Prometheus server on loopback. */
export interface PrometheusServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Process id (process runtime only), e.g. for reading /proc. */
  readonly pid?: number;
  /** Fault injection: freeze and thaw the server, or restart it on the same data and port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  restart(downMs?: number): Promise<void>;
  /** Runs an instant query through the HTTP API and returns the vector result. */
  query(promql: string): Promise<PromSample[]>;
  stop(): Promise<void>;
}

/**
 * Starts a real Prometheus with a generated scrape configuration. Targets must be
 * loopback addresses: the harness never scrapes anything else.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const { jobs, scrapeIntervalSeconds = 1, timeoutMs = 60_000 } = options;
  for (const job of jobs) {
    for (const target of job.targets) {
      if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(target)) {
        throw new Error(
          `Scrape target "${target}" of job "${job.job}" is not a loopback host:port`,
        );
      }
    }
  }
  const runtime = options.runtime ?? selectRuntime();
  if (options.scrapeConfigs?.length && !runtime.reach)
    throw new Error('scrapeConfigs need a Prometheus inside a network namespace of the harness');
  const dir = await mkdtemp(path.join(tmpdir(), 'weir-prometheus-'));
  let running: Running | undefined;
  const stop = async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const configFile = path.join(dir, 'prometheus.yml');
    await writeFile(
      configFile,
      yaml.dump({
        global: {
          scrape_interval: `${scrapeIntervalSeconds}s`,
          evaluation_interval: `${scrapeIntervalSeconds}s`,
        },
        scrape_configs: [
          ...jobs.map((j) => ({
            job_name: j.job,
            metrics_path: j.metricsPath ?? '/metrics',
            static_configs: [{ targets: j.targets, labels: j.labels ?? {} }],
          })),
          ...(options.scrapeConfigs ?? []),
        ],
      }),
    );
    running = await runtime.start({
      component: component('prometheus'),
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      shareDir: dir,
      logFile: path.join(dir, 'prometheus.log'),
    });
    const url = `http://127.0.0.1:${runtime.reach ? await runtime.reach(port) : port}`;
    await waitFor(
      async () =>
        (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) })).ok
          ? true
          : undefined,
      { timeoutMs, what: 'Prometheus to be ready' },
    ).catch(async (err: Error) => {
      const log = await readFile(path.join(dir, 'prometheus.log'), 'utf8').catch(() => '');
      err.message += `\n--- prometheus.log (last lines) ---\n${log.split('\n').slice(-10).join('\n')}`;
      throw err;
    });
    const server = running;
    return {
      url,
      get pid() {
        return server.pid;
      },
      pause: () => server.pause(),
      resume: () => server.resume(),
      async restart(downMs) {
        await server.restart(downMs);
        await waitFor(
          async () =>
            (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) })).ok
              ? true
              : undefined,
          { timeoutMs, what: 'Prometheus to be ready again after its restart' },
        );
      },
      stop,
      async query(promql) {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await res.json()) as {
          status: string;
          error?: string;
          data?: {
            resultType: string;
            result: { metric: Record<string, string>; value: [number, string] }[];
          };
        };
        if (body.status !== 'success' || !body.data)
          throw new Error(`Prometheus query failed: ${body.error ?? res.status}`);
        if (body.data.resultType !== 'vector')
          throw new Error(`Expected a vector result, got ${body.data.resultType}`);
        return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
