import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { countingKubeConfig, requestKind } from '../../../src/kube/request-metrics.js';

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

describe('countingKubeConfig', () => {
  it('counts requests of generated clients by verb and resource, and leaves the source alone', async () => {
    const source = new k8s.KubeConfig();
    source.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const registry = new Registry();
    const kc = countingKubeConfig(source, registry);
    expect(kc).not.toBe(source);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    // Nothing listens on port 1: the request is counted when sent, then fails.
    await kc
      .makeApiClient(k8s.AppsV1Api)
      .readNamespacedDeployment({ namespace: 'shop', name: 'podinfo' })
      .catch(() => undefined);
    await kc.applyToFetchOptions({});
    const text = await registry.metrics();
    expect(text).toContain('weir_kube_requests_total{verb="get",resource="deployments"} 1');
    expect(text).toContain('weir_kube_requests_total{verb="watch",resource="unknown"} 1');
  });
});
