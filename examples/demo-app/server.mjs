// The demo app: a small HTTP service with real request metrics, whose behaviour
// per version comes from its environment, as a Deployment would set it.
//
//   APP_VERSION    shown in answers and as the `version` label (default 1.0.0)
//   ERROR_RATE     fraction of requests answered with 500, 0..1 (default 0)
//   LATENCY_MS     added to every answer (default 0)
//   PORT           listen port (default 8080); HOST (default 0.0.0.0)
//
// The `pod` and `namespace` labels come from Prometheus (Kubernetes discovery, or the
// local demo's pod runner), for pods annotated prometheus.io/scrape. On SIGTERM it
// stops accepting connections and exits once the requests in flight are answered.
import { createServer } from 'node:http';
import { setTimeout } from 'node:timers';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const env = process.env;
const version = env.APP_VERSION ?? '1.0.0';
const errorRate = Number(env.ERROR_RATE ?? '0');
const latencyMs = Number(env.LATENCY_MS ?? '0');
const port = Number(env.PORT ?? '8080');
if (!(errorRate >= 0 && errorRate <= 1))
  throw new Error(`ERROR_RATE must be within 0..1, got ${env.ERROR_RATE}`);
if (!(latencyMs >= 0)) throw new Error(`LATENCY_MS must be 0 or more, got ${env.LATENCY_MS}`);

const registry = new Registry();
registry.setDefaultLabels({ version });
collectDefaultMetrics({ register: registry });
const requests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests served, by status code.',
  labelNames: ['code'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to serve an HTTP request, by status code.',
  labelNames: ['code'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

// Both codes' series exist from the first scrape. A series that appears only with the
// first 500 has no earlier sample, so rate() would miss every error served before
// Prometheus first saw it, and the success rate would read high.
for (const code of ['200', '500']) {
  requests.inc({ code }, 0);
  duration.zero({ code });
}

// Failures are spread evenly, so a 5 % error rate shows as 5 % in any window.
let served = 0;
let stopping = false;
/** Once stopping, every answer closes its connection: none is reused for another request. */
const answer = (res, code, headers, body) =>
  res.writeHead(code, stopping ? { ...headers, connection: 'close' } : headers).end(body);
const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    void registry
      .metrics()
      .then((body) => answer(res, 200, { 'content-type': registry.contentType }, body));
    return;
  }
  if (req.url === '/healthz') {
    answer(res, 200, {}, 'ok\n');
    return;
  }
  const end = duration.startTimer();
  served += 1;
  const fail =
    errorRate > 0 && Math.floor(served * errorRate) !== Math.floor((served - 1) * errorRate);
  const code = fail ? 500 : 200;
  setTimeout(() => {
    answer(
      res,
      code,
      { 'content-type': 'text/plain' },
      fail ? `error from ${version}\n` : `hello from ${version}\n`,
    );
    requests.inc({ code: String(code) });
    end({ code: String(code) });
  }, latencyMs);
});
server.listen(port, env.HOST ?? '0.0.0.0');
// Stops accepting connections, closes idle ones, and exits once the answers in flight are sent.
const stop = () => {
  stopping = true;
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
