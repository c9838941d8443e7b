import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';

/** Options for {@link startMetricsApp}. */
export interface MetricsAppOptions {
  /** Fraction of requests answered with 500, 0..1 (default 0). */
  errorRate?: number;
  /** Value of the `version` label on every series. */
  version?: string;
  /** Added to every answer, in milliseconds (default 0). */
  latencyMs?: number;
}

/** A small HTTP app on loopback that serves requests and exposes real request metrics. */
export interface MetricsApp {
  readonly port: number;
  readonly url: string;
  /** `host:port`, as a Prometheus target. */
  readonly target: string;
  stop(): Promise<void>;
}

/**
 * Starts an HTTP app instrumented with prom-client: `GET /` answers (200, or 500 at
 * `errorRate`), `GET /metrics` exposes `http_requests_total{code}` and
 * `http_request_duration_seconds`. Deterministic: every 1/errorRate-th request fails.
 */
export async function startMetricsApp(options: MetricsAppOptions = {}): Promise<MetricsApp> {
  const { errorRate = 0, version = 'v1', latencyMs = 0 } = options;
  const registry = new Registry();
  registry.setDefaultLabels({ version });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by status code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to serve an HTTP request.',
    labelNames: ['code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      void registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      });
      return;
    }
    const end = duration.startTimer();
    served += 1;
    const fail = errorRate > 0 && served % Math.round(1 / errorRate) === 0;
    const code = fail ? 500 : 200;
    const answer = () => {
      res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(fail ? 'error\n' : `hello from ${version}\n`);
      requests.inc({ code: String(code) });
      end({ code: String(code) });
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('metrics app has no TCP address');
  const port = address.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends steady traffic to some URLs until stopped. */
export interface LoadGenerator {
  /** Requests sent so far. */
  readonly sent: number;
  stop(): Promise<void>;
}

/**
 * A load generator: `rps` requests per second to each URL, without waiting for
 * answers (a slow app gets concurrent requests, as it would behind a router).
 */
export function startLoad(urls: string[], rps = 50): LoadGenerator {
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    for (const url of urls) {
      if (inFlight.size > 500) return;
      const p = fetch(url, { signal: AbortSignal.timeout(5_000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      sent += 1;
    }
  }, 1000 / rps);
  return {
    get sent() {
      return sent;
    },
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
