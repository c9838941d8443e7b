import { createServer } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { egressPolicy } from '../../../src/util/egress.js';
import { WebhookClient, type WebhookTarget } from '../../../src/webhooks/webhook-client.js';
import { watchConnections, type ConnectionWatch } from '../../harness/connections.js';
import { startHostileServer, type HostileServer } from '../../harness/hostile-server.js';
import { startReceiver, type Receiver } from '../../harness/receiver.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.stop());

const client = new WebhookClient({ backoffMs: 10, maxBackoffMs: 40 });
const target = (path: string, over: Partial<WebhookTarget> = {}): WebhookTarget => ({
  name: 'hook',
  type: 'rollout',
  url: `${receiver.url}${path}`,
  timeoutMs: 300,
  retries: 0,
  insecureSkipVerify: false,
  ...over,
});
const signal = () => new AbortController().signal;

describe('WebhookClient', () => {
  it('POSTs the payload as JSON and keeps the body', async () => {
    receiver.reply('/ok', { status: 200, body: 'load test passed' });
    const r = await client.call(target('/ok'), { name: 'podinfo' }, signal(), { 'X-Test': '1' });
    expect(r).toEqual({
      name: 'hook',
      type: 'rollout',
      statusCode: 200,
      passed: true,
      body: 'load test passed',
      attempts: 1,
    });
    expect(receiver.on('/ok').at(-1)).toMatchObject({
      body: { name: 'podinfo' },
      headers: { 'x-test': '1' },
    });
  });

  it('retries 5xx with backoff and reports the last answer', async () => {
    receiver.reply('/down', { status: 503, body: 'maintenance' });
    const before = receiver.on('/down').length;
    const r = await client.call(target('/down', { retries: 3 }), {}, signal());
    expect(r).toMatchObject({
      passed: false,
      statusCode: 503,
      error: 'HTTP 503: maintenance',
      attempts: 4,
    });
    const calls = receiver.on('/down').slice(before);
    expect(calls).toHaveLength(4);
    // 10, 20, 40 ms apart at least.
    expect(calls[3]!.at - calls[0]!.at).toBeGreaterThanOrEqual(60);
  });

  it('does not retry a 4xx: it is an answer', async () => {
    receiver.reply('/no', { status: 403, body: 'not approved' });
    const before = receiver.on('/no').length;
    const r = await client.call(target('/no', { retries: 5 }), {}, signal());
    expect(r).toMatchObject({
      passed: false,
      statusCode: 403,
      attempts: 1,
      error: 'HTTP 403: not approved',
    });
    expect(receiver.on('/no').length - before).toBe(1);
  });

  it('times out a hanging endpoint, without the URL in the reason', async () => {
    receiver.reply('/hang', 'hang');
    const r = await client.call(target('/hang?token=s3cret', { retries: 1 }), {}, signal());
    expect(r).toMatchObject({ passed: false, error: 'no answer within 0.3s', attempts: 2 });
    expect(JSON.stringify(r)).not.toContain('s3cret');
  });

  it('truncates a long body to 1 KiB', async () => {
    receiver.reply('/long', { status: 500, body: 'x'.repeat(5000) });
    const r = await client.call(target('/long'), {}, signal());
    expect(r.body).toHaveLength(1024);
    expect(r.error!.length).toBeLessThan(220);
  });

  it('reports a refused connection and stops at once when cancelled', async () => {
    const r = await client.call(target('', { url: 'http://127.0.0.1:1/x' }), {}, signal());
    expect(r).toMatchObject({ passed: false, error: 'could not connect (ECONNREFUSED)' });
    const controller = new AbortController();
    const pending = client.call(
      target('/hang', { timeoutMs: 5_000, retries: 3 }),
      {},
      controller.signal,
    );
    controller.abort();
    expect(await pending).toMatchObject({
      passed: false,
      error: 'cancelled: the release moved on',
      attempts: 1,
    });
  });
});

describe('WebhookClient against a hostile server', () => {
  let hostile: HostileServer;
  let bystander: HostileServer;
  let watch: ConnectionWatch;
  beforeAll(async () => {
    hostile = await startHostileServer({ kind: 'answer', body: 'ok' });
    bystander = await startHostileServer({ kind: 'answer', body: 'should never be asked' });
  });
  afterAll(async () => {
    await hostile.stop();
    await bystander.stop();
  });
  beforeEach(() => {
    watch = watchConnections();
  });
  afterEach(() => watch.stop());

  const at = (url: string, over: Partial<WebhookTarget> = {}): WebhookTarget => ({
    name: 'hook',
    type: 'rollout',
    url,
    timeoutMs: 5_000,
    retries: 0,
    insecureSkipVerify: false,
    ...over,
  });
  const names: LookupFunction = (hostname, options, callback) => {
    const address = { 'metadata.test': '169.254.169.254', 'hostile.test': '127.0.0.1' }[hostname];
    if (!address) return callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), '');
    if (options.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };

  it('reads at most 64 KiB of a 1 GiB answer: fails fast with the limit, memory stays flat', async () => {
    hostile.set({ kind: 'huge', bytes: 2 ** 30 });
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const r = await client.call(at(hostile.url), {}, signal());
    expect(r).toMatchObject({ passed: false, error: 'webhook answer exceeds 64 KiB', attempts: 1 });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    expect(hostile.bytesSent).toBeLessThan(64 * 2 ** 20);
  });

  it('cuts an endless answer at the same limit', async () => {
    hostile.set({ kind: 'endless' });
    const r = await client.call(at(hostile.url), {}, signal());
    expect(r.error).toBe('webhook answer exceeds 64 KiB');
  });

  it('asks for no compression and inflates nothing: a gzip bomb stays a few KiB', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 2 ** 20));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
      res.end(bomb);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const before = process.memoryUsage().rss;
      const r = await client.call(at(url), {}, signal());
      // Passed on its status; the compressed bytes are not text, so no body is kept.
      expect(r).toMatchObject({ passed: true, statusCode: 200 });
      expect(r.body).toBeUndefined();
      expect(process.memoryUsage().rss - before).toBeLessThan(32 * 2 ** 20);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    hostile.set({ kind: 'answer', body: 'ok' });
    await client.call(at(hostile.url), {}, signal());
    expect(hostile.requests.at(-1)!.headers['accept-encoding']).toBe('identity');
  });

  it('ends a body dripping a byte every 100 ms at the 1 s timeout: a total deadline', async () => {
    hostile.set({ kind: 'drip', intervalMs: 100 });
    const started = performance.now();
    const r = await client.call(at(hostile.url, { timeoutMs: 1_000 }), {}, signal());
    expect(r).toMatchObject({ passed: false, error: 'no answer within 1s', attempts: 1 });
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it('ends a request that never answers at its deadline, retries included in the count', async () => {
    hostile.set({ kind: 'hang' });
    const r = await client.call(at(hostile.url, { timeoutMs: 300, retries: 1 }), {}, signal());
    expect(r).toMatchObject({ passed: false, error: 'no answer within 0.3s', attempts: 2 });
  });

  it('clamps a timeout past Node’s timer range instead of timing out at once', async () => {
    hostile.set({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await client.call(at(hostile.url, { timeoutMs: 2 ** 32 }), {}, controller.signal);
    expect(r.error).toBe('cancelled: the release moved on');
  });

  it('does not follow a redirect: its target receives nothing', async () => {
    const seen = bystander.requests.length;
    hostile.set({ kind: 'redirect', location: `${bystander.url}/steal` });
    const r = await client.call(at(hostile.url, { retries: 3 }), {}, signal());
    expect(r).toMatchObject({
      passed: false,
      statusCode: 302,
      error: 'HTTP 302: redirects are not followed',
      attempts: 1,
    });
    expect(bystander.requests.length).toBe(seen);
  });

  it('stores answers sanitised: no control, bidi or zero-width character survives', async () => {
    hostile.set({
      kind: 'answer',
      status: 500,
      body: 'boom \x1b[2J\x1b]8;;https://e\x07click\x07 \u009b31m \u202e\u200b',
      contentType: 'text/plain',
    });
    const r = await client.call(at(hostile.url), {}, signal());
    expect(r.error).toBe(
      'HTTP 500: boom \\x1b[2J\\x1b]8;;https://e\\x07click\\x07 \\x9b31m \\u{202e}\\u{200b}',
    );
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    const unsafe = /[\0-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u200b]/u;
    expect(r.body).not.toMatch(unsafe);
    expect(r.error).not.toMatch(unsafe);
  });

  it('refuses the metadata address before connecting, and does not retry the refusal', async () => {
    const r = await client.call(
      at('http://169.254.169.254/latest/meta-data/', { retries: 3 }),
      {},
      signal(),
    );
    expect(r).toEqual({
      name: 'hook',
      type: 'rollout',
      passed: false,
      error:
        'destination 169.254.169.254 is not allowed by the egress policy (link-local and metadata addresses are always denied)',
      attempts: 1,
    });
    expect(watch.attempts).toEqual([]);
  });

  it('refuses a name that resolves to the metadata address, in lookup', async () => {
    const guarded = new WebhookClient({ egress: egressPolicy({ resolve: names }) });
    const r = await guarded.call(at('http://metadata.test/x'), {}, signal());
    expect(r.error).toMatch(/^destination metadata\.test \(169\.254\.169\.254\) is not allowed/);
    expect(watch.attempts).toEqual([]);
  });

  it('refuses loopback when denied by --egress-deny-cidrs: the server receives nothing', async () => {
    const seen = hostile.requests.length;
    const guarded = new WebhookClient({
      egress: egressPolicy({ resolve: names, denyCidrs: ['127.0.0.0/8'] }),
    });
    const port = new URL(hostile.url).port;
    for (const url of [hostile.url, `http://hostile.test:${port}/`]) {
      const r = await guarded.call(at(url), {}, signal());
      expect(r.error).toMatch(
        /^destination .*127\.0\.0\.1\)? is not allowed by the egress policy \(--egress-deny-cidrs\)$/,
      );
    }
    expect(hostile.requests.length).toBe(seen);
    expect(watch.attempts).toEqual([]);
  });

  it('keeps at most maxConcurrent requests in flight; the rest wait within their deadline', async () => {
    hostile.set({ kind: 'hang' });
    const seen = hostile.requests.length;
    const capped = new WebhookClient({ maxConcurrent: 2 });
    const results = await Promise.all(
      [300, 300, 150].map((timeoutMs) => capped.call(at(hostile.url, { timeoutMs }), {}, signal())),
    );
    expect(results.map((r) => r.error)).toEqual([
      'no answer within 0.3s',
      'no answer within 0.3s',
      'no free outbound slot within 0.15s: 2 webhook requests are in flight',
    ]);
    expect(hostile.requests.length - seen).toBe(2);
  });
});
