import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A pod the exporter reports request metrics for. */
export interface ExportedPod {
  namespace: string;
  pod: string;
}

/** The running exporter: a Prometheus target on loopback. */
export interface PodExporter {
  /** `127.0.0.1:port` */
  readonly target: string;
  stop(): Promise<void>;
}

const buckets = [
  { le: '0.05', share: 0.9 },
  { le: '0.25', share: 0.99 },
  { le: '+Inf', share: 1 },
];

/**
 * Exposition text of `http_request_duration_seconds` for every pod: 10 requests/s
 * answered 200 and 0.1/s answered 500 (a 99 % success rate), as counters that
 * grow with time since `startedAt`. Computed on each scrape, so no timer feeds it.
 */
export function exposition(pods: readonly ExportedPod[], startedAt: number, now: number): string {
  const elapsed = Math.max(0, (now - startedAt) / 1000);
  const lines = [
    '# HELP http_request_duration_seconds Time to serve an HTTP request.',
    '# TYPE http_request_duration_seconds histogram',
  ];
  const codes = [
    { code: '200', count: Math.floor(elapsed * 10) },
    { code: '500', count: Math.floor(elapsed * 0.1) },
  ];
  for (const { namespace, pod } of pods) {
    for (const { code, count } of codes) {
      const labels = `namespace="${namespace}",pod="${pod}",code="${code}"`;
      for (const b of buckets)
        lines.push(
          `http_request_duration_seconds_bucket{${labels},le="${b.le}"} ${Math.floor(count * b.share)}`,
        );
      lines.push(`http_request_duration_seconds_sum{${labels}} ${(count * 0.02).toFixed(2)}`);
      lines.push(`http_request_duration_seconds_count{${labels}} ${count}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * One local exporter standing in for every canary and primary pod of the run, so
 * a real Prometheus has request histograms whose pod names match the templates.
 */
export async function startPodExporter(pods: readonly ExportedPod[]): Promise<PodExporter> {
  const startedAt = Date.now();
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(exposition(pods, startedAt, Date.now()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
