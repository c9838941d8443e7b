import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookClient, type WebhookTarget } from '../../../src/webhooks/webhook-client.js';
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
