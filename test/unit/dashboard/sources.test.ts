import * as k8s from '@kubernetes/client-node';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Canary, CanaryRun } from '../../../src/api/types.js';
import { kubeActions } from '../../../src/dashboard/access.js';
import {
  createSources,
  mergeSources,
  trimCanary,
  trimDeployment,
  trimEvent,
  trimRun,
} from '../../../src/dashboard/sources.js';
import { createLogger } from '../../../src/logger.js';
import { canary, FakeSource } from './fixtures.js';

/** An API server on 127.0.0.1 that records every request and answers with `answer`. */
async function fakeApi(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const requests: { method: string; url: string; body: string }[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, body });
      open.add(res);
      res.on('close', () => open.delete(res));
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'nobody' }],
    currentContext: 'local',
  });
  return {
    kubeConfig,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Lists answer empty; watches stay open without events. */
const emptyCluster = (req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  if (req.url!.includes('watch=true')) return void res.flushHeaders();
  res.end(
    JSON.stringify({
      kind: 'List',
      apiVersion: 'v1',
      metadata: { resourceVersion: '7' },
      items: [],
    }),
  );
};

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const watches = (requests: { url: string }[]) =>
  requests
    .map((r) => new URL(r.url, 'http://x'))
    .filter((u) => u.searchParams.get('watch') === 'true')
    .map((u) => `${u.pathname} ${u.searchParams.get('fieldSelector') ?? ''}`.trim())
    .sort();

describe('the dashboard’s watches', () => {
  it('are four, and the Events one asks the API server for Weir’s Canary Events only', async () => {
    const api = await fakeApi(emptyCluster);
    cleanup.push(api.close);
    const sources = createSources({ kubeConfig: api.kubeConfig, logger: createLogger('silent') });
    const all = Object.values(sources);
    cleanup.push(async () => void (await Promise.all(all.map((s) => s.stop()))));
    await Promise.all(all.map((s) => s.start()));
    await expect.poll(() => watches(api.requests).length).toBe(4);
    const selector = 'involvedObject.kind=Canary,involvedObject.apiVersion=weir.dev/v1alpha1';
    expect(watches(api.requests)).toEqual([
      `/api/v1/events ${selector}`,
      '/apis/apps/v1/deployments',
      '/apis/weir.dev/v1alpha1/canaries',
      '/apis/weir.dev/v1alpha1/canaryruns',
    ]);
    const eventList = api.requests.find(
      (r) => r.url.startsWith('/api/v1/events?') && !r.url.includes('watch'),
    );
    expect(new URL(eventList!.url, 'http://x').searchParams.get('fieldSelector')).toBe(selector);
  });

  it('use namespaced paths, four per namespace, when namespaces are given', async () => {
    const api = await fakeApi(emptyCluster);
    cleanup.push(api.close);
    const sources = createSources({
      kubeConfig: api.kubeConfig,
      logger: createLogger('silent'),
      namespaces: ['shop', 'blog'],
    });
    const all = Object.values(sources);
    cleanup.push(async () => void (await Promise.all(all.map((s) => s.stop()))));
    await Promise.all(all.map((s) => s.start()));
    await expect.poll(() => watches(api.requests).length).toBe(8);
    expect(watches(api.requests).map((w) => w.split(' ')[0])).toEqual([
      '/api/v1/namespaces/blog/events',
      '/api/v1/namespaces/shop/events',
      '/apis/apps/v1/namespaces/blog/deployments',
      '/apis/apps/v1/namespaces/shop/deployments',
      '/apis/weir.dev/v1alpha1/namespaces/blog/canaries',
      '/apis/weir.dev/v1alpha1/namespaces/blog/canaryruns',
      '/apis/weir.dev/v1alpha1/namespaces/shop/canaries',
      '/apis/weir.dev/v1alpha1/namespaces/shop/canaryruns',
    ]);
  });
});

describe('mergeSources', () => {
  it('reads several namespaces’ sources as one', async () => {
    const shop = new FakeSource<Canary>((c) => c.metadata.namespace);
    const blog = new FakeSource<Canary>((c) => c.metadata.namespace);
    const merged = mergeSources([shop, blog]);
    const seen: string[] = [];
    merged.onChange((c) => seen.push(c.metadata.name!));
    shop.set(canary('web'));
    blog.set(canary('news', {}, 'blog'));
    expect(merged.cache.get('news', 'blog')?.metadata.name).toBe('news');
    expect(merged.cache.get('news', 'shop')).toBeUndefined();
    expect(merged.cache.list().map((c) => c.metadata.name)).toEqual(['web', 'news']);
    expect(merged.indexed('blog').map((c) => c.metadata.name)).toEqual(['news']);
    expect(seen).toEqual(['web', 'news']);
    await merged.start();
    expect(shop.started && blog.started).toBe(true);
  });
});

describe('what the watches keep', () => {
  it('a Deployment: names, labels, annotations, generation, replicas, container images and rollout counts', () => {
    const d: k8s.V1Deployment = {
      metadata: {
        name: 'web',
        namespace: 'shop',
        resourceVersion: '9',
        generation: 3,
        labels: { app: 'web' },
        annotations: { note: 'x' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'y', uid: 'u' }],
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'example.test/web:2',
                env: [{ name: 'TOKEN', value: 'secret' }],
              },
            ],
            volumes: [{ name: 'v' }],
          },
        },
      },
      status: {
        replicas: 2,
        readyReplicas: 1,
        updatedReplicas: 2,
        observedGeneration: 3,
        conditions: [],
      },
    };
    trimDeployment(d);
    expect(d).toEqual({
      metadata: {
        name: 'web',
        namespace: 'shop',
        resourceVersion: '9',
        generation: 3,
        labels: { app: 'web' },
        annotations: { note: 'x' },
      },
      spec: {
        replicas: 2,
        selector: {},
        template: { spec: { containers: [{ name: 'app', image: 'example.test/web:2' }] } },
      },
      status: { replicas: 2, readyReplicas: 1, updatedReplicas: 2, observedGeneration: 3 },
    });
  });

  it('an Event: its times, type, reason and message (capped), and whom it is about', () => {
    const e: k8s.CoreV1Event = {
      metadata: { name: 'web.1', namespace: 'shop', resourceVersion: '4', managedFields: [{}] },
      involvedObject: {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        name: 'web',
        namespace: 'shop',
        uid: 'u',
      },
      type: 'Warning',
      reason: 'Rollback',
      message: 'm'.repeat(5000),
      source: { component: 'weir' },
      reportingComponent: 'weir',
      count: 2,
    };
    trimEvent(e);
    expect(e.metadata).toEqual({ name: 'web.1', namespace: 'shop', resourceVersion: '4' });
    expect(e.involvedObject).toEqual({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      name: 'web',
      namespace: 'shop',
    });
    expect(e.message).toHaveLength(2048);
    expect(e.source).toBeUndefined();
    expect(e.reportingComponent).toBeUndefined();
  });

  it('a Canary without its machine but for the outbox, a run without its delivery bookkeeping', () => {
    const c = canary('web', {
      phase: 'Progressing',
      machine: { snapshot: { big: true }, outbox: [{ seq: 1 }] },
    });
    trimCanary(c);
    expect(c.status!.machine).toEqual({ outbox: [{ seq: 1 }] });
    const r = {
      metadata: { name: 'web-1' },
      spec: {},
      status: { notified: ['a'], transitions: [{ seq: 1, deliveries: ['alert/x'] }] },
    } as unknown as CanaryRun;
    trimRun(r);
    expect(r.status).toEqual({ transitions: [{ seq: 1 }] });
  });
});

describe('kubeActions', () => {
  it('asks a SelfSubjectAccessReview for patch on canaries, once a minute per namespace', async () => {
    let allowed = true;
    const api = await fakeApi((_req, res, body) => {
      const review = JSON.parse(body) as { spec: unknown };
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ...review, status: { allowed } }));
    });
    cleanup.push(api.close);
    let now = 0;
    const actions = kubeActions({ kubeConfig: api.kubeConfig, now: () => now });
    expect(await actions.mayAct('shop')).toBe(true);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.url).toBe('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(JSON.parse(api.requests[0]!.body).spec).toEqual({
      resourceAttributes: {
        namespace: 'shop',
        verb: 'patch',
        group: 'weir.dev',
        resource: 'canaries',
      },
    });
    allowed = false;
    now = 59_000;
    expect(await actions.mayAct('shop')).toBe(true);
    expect(await actions.mayAct('blog')).toBe(false);
    expect(api.requests).toHaveLength(2);
    now = 60_000;
    expect(await actions.mayAct('shop')).toBe(false);
    expect(api.requests).toHaveLength(3);
  });

  it('asks again after a failed question instead of remembering the failure', async () => {
    let fail = true;
    const api = await fakeApi((_req, res, body) => {
      if (fail) return void res.writeHead(500).end('{}');
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ...JSON.parse(body), status: { allowed: true } }));
    });
    cleanup.push(api.close);
    const actions = kubeActions({ kubeConfig: api.kubeConfig });
    await expect(actions.mayAct('shop')).rejects.toThrow();
    fail = false;
    expect(await actions.mayAct('shop')).toBe(true);
  });
});
