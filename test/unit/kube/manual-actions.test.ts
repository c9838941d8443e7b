import * as k8s from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { requestAction } from '../../../src/kube/manual-actions.js';

/** An API server holding one Canary; records the merge patches it gets. */
async function apiWith(canary: Canary) {
  const patches: { type: string; body: unknown }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'PATCH')
        patches.push({ type: req.headers['content-type']!, body: JSON.parse(body) });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(canary));
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
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { target: { kubeConfig, namespace: 'shop' }, patches };
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

const canary = (phase: string, annotations: Record<string, string> = {}): Canary => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'Canary',
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    service: { port: 80 },
    analysis: { interval: '10s' },
  },
  status: { phase: phase as never, lastAppliedSpec: 'rev2' },
});

describe('requestAction', () => {
  it('approves with the revision itself, even when it was approved before: the gates compare it', async () => {
    const { target, patches } = await apiWith(
      canary('WaitingPromotion', { 'weir.dev/approve': 'rev2' }),
    );
    expect(await requestAction(target, 'web', 'approve')).toBe(
      'approve requested for shop/web at revision rev2 (annotation weir.dev/approve=rev2)',
    );
    expect(patches).toEqual([
      {
        type: 'application/merge-patch+json',
        body: { metadata: { annotations: { 'weir.dev/approve': 'rev2' } } },
      },
    ]);
  });

  it('gives a promote the controller has already seen a new value, so that it acts again', async () => {
    const { target, patches } = await apiWith(
      canary('Progressing', { 'weir.dev/promote': 'rev2' }),
    );
    await requestAction(target, 'web', 'promote');
    const value = (patches[0]!.body as any).metadata.annotations['weir.dev/promote'] as string;
    expect(value).toMatch(/^rev2-[0-9a-z]+$/);
  });

  it('refuses what the phase does not allow, writing nothing', async () => {
    const { target, patches } = await apiWith(canary('Succeeded'));
    await expect(requestAction(target, 'web', 'approve')).rejects.toThrow(
      'Canary shop/web is Succeeded; approve applies to a release in progress',
    );
    await expect(requestAction(target, 'web', 'retry')).rejects.toThrow(
      'Canary shop/web is Succeeded; only a Failed release can be retried',
    );
    expect(patches).toEqual([]);
  });
});
