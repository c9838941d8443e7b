import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { egressPolicy } from '../../src/util/egress.js';
import { WebhookClient, type WebhookTarget } from '../../src/webhooks/webhook-client.js';
import { startReceiver, type Receiver } from '../harness/receiver.js';
import { startTinyproxy, type Proxy } from '../harness/tinyproxy.js';

/** A self-signed certificate for 127.0.0.1, made with Debian's openssl. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-tls-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Given a real HTTP proxy (Debian's tinyproxy, one open and one with basic auth) on
// loopback and real http and https receivers, when Weir sends a notification through an
// AlertProvider's proxy, then it goes through that proxy (absolute-form for http, a
// CONNECT tunnel for https, the destination's certificate still checked), credentials
// reach the proxy and no message, and the egress policy holds for the proxy and for a
// destination given as an address.
describe('notifications through an HTTP proxy', () => {
  let open: Proxy;
  let guarded: Proxy;
  let plain: Receiver;
  let tls: Receiver;
  const client = new WebhookClient({ backoffMs: 10, egress: egressPolicy() });
  const target = (url: string, proxy: string, over: Partial<WebhookTarget> = {}) => ({
    name: 'slack',
    type: 'alert',
    url,
    timeoutMs: 5_000,
    retries: 0,
    insecureSkipVerify: false,
    proxy,
    ...over,
  });
  const send = (t: WebhookTarget) =>
    client.call(t, { text: 'Promoted: podinfo in shop' }, AbortSignal.timeout(10_000));

  beforeAll(async () => {
    [open, guarded, plain, tls] = await Promise.all([
      startTinyproxy(),
      startTinyproxy({ basicAuth: { user: 'weir', password: 's3cret-pw' } }),
      startReceiver(),
      startReceiver({ tls: selfSigned() }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await Promise.allSettled([open?.stop(), guarded?.stop(), plain?.stop(), tls?.stop()]);
  });

  it('sends an http notification through the proxy, which says so in Via', async () => {
    const r = await send(target(`${plain.url}/services/T0/B0/token-in-path`, open.url));
    expect(r).toMatchObject({ passed: true, statusCode: 200 });
    const got = plain.on('/services/T0/B0/token-in-path');
    expect(got).toHaveLength(1);
    expect(got[0]!.headers.via).toMatch(/tinyproxy/);
    expect(got[0]!.body).toEqual({ text: 'Promoted: podinfo in shop' });
  });

  it('tunnels an https notification with CONNECT, and still checks the destination’s certificate', async () => {
    const checked = await send(target(`${tls.url}/hook`, open.url));
    expect(checked.passed).toBe(false);
    expect(checked.error).toMatch(/could not connect \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED)/);
    expect(tls.on('/hook')).toHaveLength(0);

    const skipped = await send(target(`${tls.url}/hook`, open.url, { insecureSkipVerify: true }));
    expect(skipped).toMatchObject({ passed: true, statusCode: 200 });
    expect(tls.on('/hook')).toHaveLength(1);
    // Through a tunnel the proxy sees only where to: the CONNECT, not the request.
    expect(tls.on('/hook')[0]!.headers.via).toBeUndefined();
    expect(open.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${new URL(tls.url).port}`));
  });

  it('gives a proxy its credentials from the URL, and a refusal names no secret', async () => {
    const ok = await send(target(`${plain.url}/auth`, guarded.urlWithCredentials!));
    expect(ok).toMatchObject({ passed: true, statusCode: 200 });
    // Without them, or with a wrong password, tinyproxy answers 407 and closes the connection
    // before reading the body: a failed delivery either way, and nothing reaches the receiver.
    const refused = await send(target(`${plain.url}/auth`, guarded.url));
    expect(refused.passed).toBe(false);
    expect(refused.error).toMatch(/^(HTTP 407|could not connect \(ECONNRESET\))/);
    const wrong = await send(
      target(`${plain.url}/auth`, guarded.urlWithCredentials!.replace('s3cret-pw', 'guess')),
    );
    expect(wrong.passed).toBe(false);
    expect(plain.on('/auth')).toHaveLength(1);
    for (const r of [refused, wrong]) expect(JSON.stringify(r)).not.toMatch(/s3cret|guess|weir:/);
  });

  it('holds the proxy and an address behind it to the egress policy, before connecting', async () => {
    const before = open.log().length;
    const proxyDenied = await send(target(`${plain.url}/x`, 'http://169.254.169.254:3128'));
    expect(proxyDenied).toMatchObject({ passed: false, attempts: 1 });
    expect(proxyDenied.error).toBe(
      'proxy: destination 169.254.169.254 is not allowed by the egress policy (link-local and metadata addresses are always denied)',
    );
    const behind = await send(target('http://169.254.169.254/latest/meta-data/', open.url));
    expect(behind.error).toBe(
      'destination: destination 169.254.169.254 is not allowed by the egress policy (link-local and metadata addresses are always denied)',
    );
    // Neither reached the proxy.
    expect(open.log().slice(before)).not.toMatch(/169\.254/);
    const denyLoopback = new WebhookClient({
      egress: egressPolicy({ denyCidrs: ['127.0.0.0/8'] }),
    });
    const named = await denyLoopback.call(
      target(`${plain.url}/x`, `http://localhost:${new URL(open.url).port}`),
      {},
      AbortSignal.timeout(5_000),
    );
    // A proxy given by name is checked when it is resolved.
    expect(named.error).toMatch(/is not allowed by the egress policy \(--egress-deny-cidrs\)/);
  });
});
