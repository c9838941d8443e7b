import * as k8s from '@kubernetes/client-node';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createInformer, slim } from '../../../src/kube/informer.js';
import { replicasAppliedBy } from '../../../src/kube/managed-fields.js';
import { createLogger } from '../../../src/logger.js';

describe('slim', () => {
  it('drops managed fields and the last-applied annotation, and keeps everything else', () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'podinfo',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}',
          'weir.dev/revision': 'abc',
        },
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
      spec: { replicas: 2 },
    };
    expect(slim(obj)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'podinfo', annotations: { 'weir.dev/revision': 'abc' } },
      spec: { replicas: 2 },
    });
  });
});

describe('who applies spec.replicas', () => {
  const entry = (manager: string, operation: string, fields: object, subresource?: string) => ({
    manager,
    operation,
    fieldsV1: fields,
    ...(subresource ? { subresource } : {}),
  });
  const replicas = { 'f:spec': { 'f:replicas': {}, 'f:template': {} } };
  const deployment = (...managedFields: object[]) =>
    ({ metadata: { name: 'web', managedFields } }) as k8s.V1Deployment;

  it('names a server-side applier of spec.replicas and keeps only that through slim', () => {
    const d = deployment(
      entry('kube-controller-manager', 'Update', { 'f:status': {} }, 'status'),
      entry('weir', 'Update', { 'f:spec': { 'f:replicas': {} } }, 'scale'),
      entry('kustomize-controller', 'Apply', replicas),
    );
    expect(replicasAppliedBy(d)).toBe('kustomize-controller');
    expect(slim(d).metadata!.managedFields).toEqual([
      {
        manager: 'kustomize-controller',
        operation: 'Apply',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
    ]);
    expect(replicasAppliedBy(d)).toBe('kustomize-controller');
  });

  it('ignores client-side writers, the scale subresource, Weir itself and appliers of other fields', () => {
    expect(
      replicasAppliedBy(deployment(entry('kubectl-client-side-apply', 'Update', replicas))),
    ).toBe(undefined);
    expect(replicasAppliedBy(deployment(entry('kubectl', 'Apply', replicas, 'scale')))).toBe(
      undefined,
    );
    expect(replicasAppliedBy(deployment(entry('weir', 'Apply', replicas)))).toBe(undefined);
    expect(
      replicasAppliedBy(
        deployment(entry('kustomize-controller', 'Apply', { 'f:spec': { 'f:template': {} } })),
      ),
    ).toBe(undefined);
    expect(replicasAppliedBy(deployment(entry('argocd-controller', 'Update', replicas)))).toBe(
      'argocd-controller',
    );
  });
});

/** A watch endpoint on 127.0.0.1 that streams the events a test pushes. */
async function watchServer() {
  let stream: ServerResponse | undefined;
  const connected = new Set<() => void>();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    stream = res;
    for (const c of connected) c();
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
    connected: () =>
      stream ? Promise.resolve() : new Promise<void>((resolve) => connected.add(resolve)),
    send: (type: string, object: unknown) => stream!.write(`${JSON.stringify({ type, object })}\n`),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const run = (name: string, canary: string, rv: string, transitions = 1, result?: string) => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'CanaryRun',
  metadata: { name, namespace: 'shop', resourceVersion: rv, labels: { 'weir.dev/canary': canary } },
  status: {
    transitions: Array.from({ length: transitions }, (_, i) => ({ seq: i + 1 })),
    ...(result ? { result } : {}),
  },
});
type Run = ReturnType<typeof run>;

describe('createInformer', () => {
  it('keeps the index current through adds, a label change and a delete, and trims what it caches', async () => {
    const api = await watchServer();
    const informer = createInformer<Run>({
      kubeConfig: api.kubeConfig,
      path: '/apis/weir.dev/v1alpha1/canaryruns',
      list: async () => ({
        apiVersion: 'v1',
        kind: 'List',
        metadata: { resourceVersion: '1' },
        items: [run('web-1', 'web', '1')],
      }),
      logger: createLogger('silent'),
      trim: (r) => {
        if (r.status.result) r.status.transitions = r.status.transitions.slice(-1);
      },
      indexBy: (r) => `${r.metadata.namespace}/${r.metadata.labels['weir.dev/canary']}`,
    });
    const names = (key: string) =>
      informer
        .indexed(key)
        .map((r) => r.metadata.name)
        .sort();
    const seen = new Promise<void>((resolve) =>
      informer.onChange((r) => r.metadata.resourceVersion === '5' && resolve()),
    );
    try {
      await informer.start();
      await api.connected();
      expect(names('shop/web')).toEqual(['web-1']);
      api.send('ADDED', run('web-2', 'web', '2', 3));
      api.send('ADDED', run('api-1', 'api', '3'));
      api.send('MODIFIED', run('web-2', 'api', '4', 3, 'Promoted'));
      api.send('DELETED', run('web-1', 'web', '5'));
      await seen;
      expect(names('shop/web')).toEqual([]);
      expect(names('shop/api')).toEqual(['api-1', 'web-2']);
      expect(informer.indexed('shop/api').find((r) => r.metadata.name === 'web-2')!.status).toEqual(
        { transitions: [{ seq: 3 }], result: 'Promoted' },
      );
      expect(informer.cache.get('web-2', 'shop')!.status.transitions).toEqual([{ seq: 3 }]);
    } finally {
      await informer.stop();
      await api.close();
    }
  });
});

describe('createInformer after the first sync', () => {
  it('keeps restarting through repeated failures until a list succeeds again', async () => {
    // A watch endpoint that streams, then answers 410 Gone (the client must list again).
    let gone = false;
    const server = createServer((_req, res) => {
      if (gone) {
        res.writeHead(410, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Status","code":410}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
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
    // The API server is down for three lists in a row, then back with a new object.
    let lists = 0;
    let failures = 0;
    const informer = createInformer<Run>({
      kubeConfig,
      path: '/apis/weir.dev/v1alpha1/canaryruns',
      list: async () => {
        lists += 1;
        if (lists > 1 && failures < 3) {
          failures += 1;
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        }
        return {
          apiVersion: 'v1',
          kind: 'List',
          metadata: { resourceVersion: String(lists) },
          items: lists === 1 ? [run('web-1', 'web', '1')] : [run('web-2', 'web', '9')],
        };
      },
      logger: createLogger('silent'),
      backoff: { initialMs: 5, maxMs: 20 },
    });
    try {
      await informer.start();
      expect(informer.cache.list().map((r) => r.metadata.name)).toEqual(['web-1']);
      gone = true;
      server.closeAllConnections();
      const deadline = Date.now() + 4_000;
      while (!informer.cache.get('web-2', 'shop') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(failures, 'lists that failed before the API server was back').toBe(3);
      expect(informer.cache.list().map((r) => r.metadata.name)).toEqual(['web-2']);
    } finally {
      await informer.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
