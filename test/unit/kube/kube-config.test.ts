import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { controllerKubeConfig } from '../../../src/kube/kube-config.js';
import { requestKind } from '../../../src/kube/request-kind.js';

describe('requestKind', () => {
  const base = 'https://127.0.0.1:6443';
  it.each([
    ['GET', '/apis/apps/v1/namespaces/shop/deployments/podinfo', 'get', 'deployments'],
    ['GET', '/apis/apps/v1/deployments', 'list', 'deployments'],
    ['GET', '/apis/weir.dev/v1alpha1/canaries?watch=true&resourceVersion=5', 'watch', 'canaries'],
    ['GET', '/api/v1/namespaces', 'list', 'namespaces'],
    ['GET', '/api/v1/namespaces/shop', 'get', 'namespaces'],
    [
      'PATCH',
      '/apis/weir.dev/v1alpha1/namespaces/shop/canaries/podinfo/status',
      'patch',
      'canaries/status',
    ],
    [
      'PATCH',
      '/apis/apps/v1/namespaces/shop/deployments/podinfo/scale',
      'patch',
      'deployments/scale',
    ],
    ['POST', '/api/v1/namespaces/shop/events', 'create', 'events'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/x/leases/weir', 'update', 'leases'],
    [
      'DELETE',
      '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/podinfo',
      'delete',
      'httproutes',
    ],
    ['GET', '/apis/gateway.networking.k8s.io/v1', 'get', 'discovery'],
    ['GET', '/version', 'get', 'discovery'],
  ])('%s %s is %s %s', (method, path, verb, resource) => {
    expect(requestKind(method, base + path)).toEqual({ verb, resource });
  });
});

const config = (server: string, user: string = 'u') => {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: user, token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user }],
    currentContext: 'x',
  });
  return kc;
};
const contextFor = async (kc: k8s.KubeConfig, path: string) => {
  const ctx = new k8s.RequestContext(
    `${kc.getCurrentCluster()!.server}${path}`,
    k8s.HttpMethod.GET,
  );
  await kc.applySecurityAuthentication(ctx);
  return ctx;
};

describe('controllerKubeConfig', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((s) => new Promise((r) => s.close(r).closeAllConnections())),
    );
  });

  it('counts requests of generated clients and watches by verb and resource, and leaves the source alone', async () => {
    const source = config('https://127.0.0.1:1');
    const registry = new Registry();
    const kc = controllerKubeConfig(source, { registry });
    expect(kc).not.toBe(source);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    // Nothing listens on port 1: the request is counted when sent, then fails.
    await kc
      .makeApiClient(k8s.AppsV1Api)
      .readNamespacedDeployment({ namespace: 'shop', name: 'podinfo' })
      .catch(() => undefined);
    await contextFor(kc, '/apis/weir.dev/v1alpha1/canaries?watch=true');
    const text = await registry.metrics();
    expect(text).toContain('weir_kube_requests_total{verb="get",resource="deployments"} 1');
    expect(text).toContain('weir_kube_requests_total{verb="watch",resource="canaries"} 1');
  });

  it('gives every request to one server and identity the same dispatcher, and keeps servers apart', async () => {
    const a = controllerKubeConfig(config('https://127.0.0.1:6443'));
    const b = controllerKubeConfig(config('https://127.0.0.1:7443'));
    const first = (await contextFor(a, '/api/v1/pods')).getDispatcher();
    expect(first).toBeDefined();
    expect((await contextFor(a, '/api/v1/secrets')).getDispatcher()).toBe(first);
    expect((await contextFor(b, '/api/v1/pods')).getDispatcher()).not.toBe(first);
    // client-node alone builds a new one per request: the reason for sharing.
    const plain = config('https://127.0.0.1:6443');
    expect((await contextFor(plain, '/api/v1/pods')).getDispatcher()).not.toBe(
      (await contextFor(plain, '/api/v1/pods')).getDispatcher(),
    );
  });

  it('bounds every request but a watch in time', async () => {
    // A server that accepts requests and never answers them.
    const server = http.createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const kc = controllerKubeConfig(config(`http://127.0.0.1:${port}`), { requestTimeoutMs: 200 });
    expect((await contextFor(kc, '/api/v1/pods?watch=1')).getSignal()).toBeUndefined();
    const started = Date.now();
    const err = await kc
      .makeApiClient(k8s.CoreV1Api)
      .readNamespace({ name: 'shop' })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.name, 'the hung request fails with a timeout').toBe('TimeoutError');
    // Bounded: well under the 30 s default, whatever the machine's load.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('aborts writes in flight when the write fence fires, and leaves reads alone', async () => {
    const server = http.createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const fence = new AbortController();
    const kc = controllerKubeConfig(config(`http://127.0.0.1:${port}`), {
      writeFence: () => fence.signal,
      userAgent: 'weir-controller/test (a)',
    });
    const write = kc
      .makeApiClient(k8s.CoreV1Api)
      .createNamespacedEvent({ namespace: 'shop', body: { metadata: { name: 'e' } } as never })
      .then(
        () => 'answered',
        (e: Error) => e.name,
      );
    fence.abort();
    expect(await write).toBe('AbortError');
    const read = await contextFor(kc, '/api/v1/namespaces/shop');
    expect(read.getSignal()?.aborted).toBe(false);
    expect(read.getHeaders()['User-Agent']).toBe('weir-controller/test (a)');
  });
});

describe('controllerKubeConfig names the replica', () => {
  it('sends its User-Agent on requests of every client it makes, not client-node’s', async () => {
    const agents: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      agents.push(req.headers['user-agent']);
      res.writeHead(200, { 'content-type': 'application/json' });
      // KubernetesObjectApi asks discovery first which resource a kind is.
      res.end(
        req.url === '/api/v1'
          ? '{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"namespaces","namespaced":false,"kind":"Namespace","verbs":["get"],"singularName":"namespace"}]}'
          : '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop"}}',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const kc = controllerKubeConfig(config(`http://127.0.0.1:${port}`), {
        userAgent: 'weir-controller/test (replica-a_1)',
      });
      await kc.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'shop' });
      await k8s.KubernetesObjectApi.makeApiClient(kc).read({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'shop' },
      });
      expect(agents.length).toBeGreaterThanOrEqual(2);
      expect(new Set(agents)).toEqual(new Set(['weir-controller/test (replica-a_1)']));
    } finally {
      server.close();
    }
  });
});
