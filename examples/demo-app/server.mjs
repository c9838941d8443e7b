// The demo app: a small HTTP service with real request metrics, whose behaviour
// per version comes from its environment, as a Deployment would set it.
//
//   APP_VERSION    shown in answers and as the `version` label (default 1.0.0)
//   ERROR_RATE     fraction of requests answered with 500, 0..1 (default 0)
//   LATENCY_MS     added to every answer (default 0)
//   PORT           listen port (default 8080); HOST (default 0.0.0.0)
//   POD_NAME, POD_NAMESPACE   when set, added as `pod` and `namespace` labels. In a
//                  cluster Prometheus adds these itself; the local demo runs pods as
//                  plain processes, so the app labels its own series.
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
registry.setDefaultLabels({
  version,
  ...(env.POD_NAME ? { pod: env.POD_NAME } : {}),
  ...(env.POD_NAMESPACE ? { namespace: env.POD_NAMESPACE } : {}),
});
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

// Failures are spread evenly, so a 5 % error rate shows as 5 % in any window.
let served = 0;
const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    void registry
      .metrics()
      .then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
    return;
  }
  if (req.url === '/healthz') {
    res.writeHead(200).end('ok\n');
    return;
  }
  const end = duration.startTimer();
  served += 1;
  const fail =
    errorRate > 0 && Math.floor(served * errorRate) !== Math.floor((served - 1) * errorRate);
  const code = fail ? 500 : 200;
  setTimeout(() => {
    res
      .writeHead(code, { 'content-type': 'text/plain' })
      .end(fail ? `error from ${version}\n` : `hello from ${version}\n`);
    requests.inc({ code: String(code) });
    end({ code: String(code) });
  }, latencyMs);
});
server.listen(port, env.HOST ?? '0.0.0.0');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
