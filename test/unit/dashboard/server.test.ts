import * as k8s from '@kubernetes/client-node';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ManualAction } from '../../../src/api/manual-actions.js';
import type { DashboardActions } from '../../../src/dashboard/access.js';
import type { CanaryDetail, CanaryRow, StreamMessage } from '../../../src/dashboard/model.js';
import {
  startDashboard,
  type Dashboard,
  type DashboardOptions,
} from '../../../src/dashboard/server.js';
import { createLogger } from '../../../src/logger.js';
import { canary, fakeSources, hostile } from './fixtures.js';

const assets = { 'app.js': 'console.log("page")', 'app.css': 'body{}' };
const csp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Actions that record what was asked, answering as `answer` says. */
function fakeActions(answer: (action: ManualAction) => Promise<string> = async (a) => `${a} done`) {
  const asked: string[] = [];
  const actions: DashboardActions = {
    mayAct: async () => true,
    request: async (namespace, name, action) => {
      asked.push(`${namespace}/${name} ${action}`);
      return answer(action);
    },
  };
  return { actions, asked };
}

let running: Dashboard | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: Partial<DashboardOptions> = {}) {
  const sources = fakeSources();
  sources.canaries.set(
    canary('web', {
      phase: 'WaitingPromotion',
      canaryWeight: 50,
      lastAppliedSpec: 'rev2',
      conditions: [{ type: 'Ready', status: 'False', reason: 'Waiting', message: hostile }],
    }),
  );
  const fake = fakeActions();
  running = await startDashboard({
    logger: createLogger('silent'),
    assets,
    sources,
    actions: fake.actions,
    ...options,
  });
  const port = Number(new URL(running.url).port);
  return { port, sources, asked: fake.asked, origin: `http://127.0.0.1:${port}` };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (Host included), read to the end. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a stream and collects its messages and comments until `done` says enough. */
function openStream(port: number, path: string, headers: Record<string, string> = {}) {
  const messages: StreamMessage[] = [];
  let raw = '';
  let response: IncomingMessage | undefined;
  let ended = false;
  const waiters = new Set<() => void>();
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    headers: { host: `127.0.0.1:${port}`, ...headers },
  });
  const opened = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      response = res;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        for (const m of chunk.matchAll(/^data: (.*)$/gm)) messages.push(JSON.parse(m[1]!));
        waiters.forEach((w) => w());
      });
      res.on('end', () => {
        ended = true;
        waiters.forEach((w) => w());
      });
      resolve(res);
    });
    req.on('error', reject);
  });
  req.end();
  const until = (what: string, ok: () => boolean, timeoutMs = 3000) =>
    new Promise<void>((resolve, reject) => {
      if (ok()) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`Gave up waiting for ${what}: ${raw}`)),
        timeoutMs,
      );
      const check = () => {
        if (!ok()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return {
    opened,
    messages,
    raw: () => raw,
    ended: () => ended,
    until,
    close: () => {
      response?.destroy();
      req.destroy();
    },
  };
}

const writeHeaders = (origin: string) => ({
  'content-type': 'application/json',
  origin,
  'x-weir-action': '1',
});

const without = (headers: Record<string, string>, name: string) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));

describe('the dashboard server', () => {
  it('sends its security headers with every answer, errors and refusals included', async () => {
    const { port, origin } = await start();
    const answers = await Promise.all([
      send(port, 'GET', '/'),
      send(port, 'GET', '/canaries/shop/web'),
      send(port, 'GET', '/app.js'),
      send(port, 'GET', '/app.css'),
      send(port, 'GET', '/api/canaries'),
      send(port, 'GET', '/api/canaries/shop/web'),
      send(port, 'GET', '/api/canaries/shop/gone'),
      send(port, 'GET', '/nope'),
      send(port, 'OPTIONS', '/api/canaries/shop/web/actions/promote'),
      send(port, 'POST', '/api/canaries/shop/web/actions/promote'),
      send(port, 'POST', '/api/canaries/shop/web/actions/promote', writeHeaders(origin), '{}'),
      send(port, 'GET', '/', { host: 'evil.example' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      200, 200, 200, 200, 200, 200, 404, 404, 405, 403, 200, 403,
    ]);
    for (const a of answers) {
      expect(a.headers['content-security-policy']).toBe(csp);
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['referrer-policy']).toBe('no-referrer');
    }
    const stream = openStream(port, '/api/stream');
    const res = await stream.opened;
    stream.close();
    expect(res.headers['content-security-policy']).toBe(csp);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves the page shell, which loads only its own script and stylesheet, and the assets', async () => {
    const { port } = await start();
    const page = await send(port, 'GET', '/canaries/shop/web');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<link rel="stylesheet" href="/app.css">');
    expect(page.body).toContain('<script type="module" src="/app.js"></script>');
    expect(page.body).not.toMatch(/<script>|<style|style=|\son\w+=/);
    const script = await send(port, 'GET', '/app.js');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe(assets['app.js']);
    expect((await send(port, 'GET', '/app.css')).body).toBe(assets['app.css']);
  });

  it('builds the assets once when given a function', async () => {
    let builds = 0;
    const { port } = await start({ assets: async () => ((builds += 1), assets) });
    await send(port, 'GET', '/app.js');
    await send(port, 'GET', '/app.js');
    expect(builds).toBe(1);
  });

  it('answers the rows and a detail as JSON, hostile text unchanged, 404 for a Canary it does not have', async () => {
    const { port } = await start();
    const rows = await send(port, 'GET', '/api/canaries');
    expect(rows.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(rows.headers['cache-control']).toBe('no-store');
    const [row] = JSON.parse(rows.body) as CanaryRow[];
    expect(row).toMatchObject({ name: 'web', phase: 'WaitingPromotion', message: hostile });
    const detail = JSON.parse(
      (await send(port, 'GET', '/api/canaries/shop/web')).body,
    ) as CanaryDetail;
    expect(detail.actions.find((a) => a.action === 'approve')).toMatchObject({
      applicable: true,
      value: 'rev2',
    });
    const gone = await send(port, 'GET', '/api/canaries/shop/gone');
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body)).toEqual({ error: 'No Canary shop/gone (or not watched)' });
    expect((await send(port, 'GET', '/api/canaries/shop/Not_A_Name')).status).toBe(404);
  });

  it('answers only Host headers naming its own address, or allowed with --allowed-host', async () => {
    const { port } = await start({ allowedHosts: ['dash.example', 'pinned.example:8443'] });
    const status = async (host: string) =>
      (await send(port, 'GET', '/api/canaries', { host })).status;
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`[::1]:${port}`)).toBe(200);
    expect(await status('dash.example')).toBe(200);
    expect(await status('DASH.example:443')).toBe(200);
    expect(await status('pinned.example:8443')).toBe(200);
    expect(await status('pinned.example:9000')).toBe(403);
    expect(await status(`127.0.0.1:${port + 1}`)).toBe(403);
    expect(await status(`rebound.attacker.example:${port}`)).toBe(403);
    const refused = await send(port, 'GET', '/', { host: 'rebound.attacker.example' });
    expect(refused.body).toContain('--allowed-host');
    expect(refused.body).not.toContain('<');
    // A kubelet probes the pod IP: /healthz answers any Host, and tells nothing.
    const probe = await send(port, 'GET', '/healthz', { host: '10.244.0.7:8090' });
    expect(probe).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await send(port, 'GET', '/healthz?x', { host: '10.244.0.7:8090' })).status).toBe(403);
  });

  it('takes an action only with JSON, its own Origin and X-Weir-Action, through the CLI code', async () => {
    const { port, origin, asked } = await start();
    const path = '/api/canaries/shop/web/actions/approve';
    const refused = async (headers: Record<string, string>, why: RegExp) => {
      const a = await send(port, 'POST', path, headers, '{}');
      expect(a.status).toBe(403);
      expect(JSON.parse(a.body).error).toMatch(why);
    };
    const good = writeHeaders(origin);
    await refused({ ...good, 'content-type': 'text/plain' }, /Content-Type: application\/json/);
    await refused(
      { ...good, 'content-type': 'application/x-www-form-urlencoded' },
      /application\/json/,
    );
    await refused(without(good, 'origin'), /Origin/);
    await refused({ ...good, origin: 'http://evil.example' }, /Origin/);
    await refused({ ...good, origin: `http://127.0.0.1:${port + 1}` }, /Origin/);
    await refused({ ...good, origin: 'null' }, /Origin/);
    await refused(without(good, 'x-weir-action'), /X-Weir-Action/);
    await refused({ ...good, 'x-weir-action': '0' }, /X-Weir-Action/);
    expect(asked).toEqual([]);

    const ok = await send(
      port,
      'POST',
      path,
      { ...good, 'content-type': 'application/json; charset=utf-8' },
      '{}',
    );
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ message: 'approve done' });
    // Its own origin under another allowed name: localhost.
    const local = await send(port, 'POST', path, {
      ...good,
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
    });
    expect(local.status).toBe(200);
    expect(asked).toEqual(['shop/web approve', 'shop/web approve']);

    const unknown = await send(port, 'POST', '/api/canaries/shop/web/actions/delete', good, '{}');
    expect(unknown.status).toBe(404);
    const big = await send(port, 'POST', path, good, 'x'.repeat(10_000));
    expect(big.status).toBe(413);
  });

  it('answers 405 to OPTIONS and other methods: no preflight, so no cross-origin write', async () => {
    const { port, origin } = await start();
    for (const method of ['OPTIONS', 'PUT', 'DELETE', 'PATCH']) {
      const a = await send(port, method, '/api/canaries/shop/web/actions/promote', {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
      });
      expect(a.status).toBe(405);
      expect(a.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect((await send(port, 'POST', '/api/canaries', writeHeaders(origin), '{}')).status).toBe(
      404,
    );
  });

  it('says why an action failed: 409 when the phase refuses it, the API server’s own code otherwise', async () => {
    const failures: Record<string, () => Promise<string>> = {
      promote: async () => {
        throw new Error('Canary shop/web is Succeeded; promote applies to a release in progress');
      },
      abort: async () => {
        throw new k8s.ApiException(
          403,
          'Forbidden',
          { message: 'canaries "web" is forbidden: User "ann"' },
          {},
        );
      },
      retry: async () => {
        throw new k8s.ApiException(500, 'Internal', '{"message":"etcd timeout"}', {});
      },
    };
    const fake = fakeActions((action) => failures[action]!());
    const { port, origin } = await start({ actions: fake.actions });
    const act = async (action: string) => {
      const a = await send(
        port,
        'POST',
        `/api/canaries/shop/web/actions/${action}`,
        writeHeaders(origin),
        '{}',
      );
      return [a.status, JSON.parse(a.body).error];
    };
    expect(await act('promote')).toEqual([
      409,
      'Canary shop/web is Succeeded; promote applies to a release in progress',
    ]);
    expect(await act('abort')).toEqual([403, 'canaries "web" is forbidden: User "ann"']);
    expect(await act('retry')).toEqual([502, 'etcd timeout']);
  });

  it('read-only: offers no action and refuses every write', async () => {
    const fake = fakeActions();
    const { port, origin } = await start({ readOnly: true, actions: fake.actions });
    const detail = JSON.parse(
      (await send(port, 'GET', '/api/canaries/shop/web')).body,
    ) as CanaryDetail;
    expect(detail.actions).toEqual([]);
    const a = await send(
      port,
      'POST',
      '/api/canaries/shop/web/actions/approve',
      writeHeaders(origin),
      '{}',
    );
    expect(a.status).toBe(403);
    expect(JSON.parse(a.body).error).toMatch(/read-only/);
    expect(fake.asked).toEqual([]);
  });

  it('streams a snapshot, then changes, with heartbeats, and the detail of a followed Canary', async () => {
    const { port, sources } = await start({ heartbeatMs: 50 });
    const list = openStream(port, '/api/stream');
    const res = await list.opened;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    await list.until('the snapshot', () => list.messages.length === 1);
    expect(list.messages[0]).toMatchObject({ type: 'snapshot', rows: [{ name: 'web' }] });

    const follow = openStream(port, '/api/stream?canary=shop/web');
    await follow.until('snapshot and detail', () => follow.messages.length === 2);
    expect(follow.messages.map((m) => m.type)).toEqual(['snapshot', 'detail']);

    sources.canaries.set(
      canary('web', { phase: 'Promoting', canaryWeight: 50, lastAppliedSpec: 'rev2' }),
    );
    await list.until('an upsert', () => list.messages.length === 2);
    expect(list.messages[1]).toMatchObject({
      type: 'upsert',
      row: { name: 'web', phase: 'Promoting' },
    });
    await follow.until('a new detail', () =>
      follow.messages.some((m, i) => i > 1 && m.type === 'detail'),
    );
    await list.until('a heartbeat', () => list.raw().includes(': heartbeat\n\n'));
    list.close();
    follow.close();
  });

  it('refuses a malformed follow, and a page past its cap with 503', async () => {
    const { port } = await start({ maxPages: 1 });
    expect((await send(port, 'GET', '/api/stream?canary=shop')).status).toBe(400);
    const first = openStream(port, '/api/stream');
    await first.until('the snapshot', () => first.messages.length === 1);
    const second = await send(port, 'GET', '/api/stream');
    expect(second.status).toBe(503);
    expect(JSON.parse(second.body).error).toMatch(/Too many open dashboard pages/);
    first.close();
  });

  it('ends its streams and stops its watches on close', async () => {
    const { port, sources } = await start();
    const s = openStream(port, '/api/stream');
    await s.until('the snapshot', () => s.messages.length === 1);
    await running!.close();
    running = undefined;
    await s.until('the end of the stream', () => s.ended());
    expect(sources.canaries.started).toBe(false);
  });
});
