import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createKubeAccess } from '../../../src/kube/access.js';
import { controllerKubeConfig } from '../../../src/kube/kube-config.js';
import { Registry } from 'prom-client';

describe('createKubeAccess', () => {
  it('refuses every write, before sending it, once the replica may not write', async () => {
    const source = new k8s.KubeConfig();
    source.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const registry = new Registry();
    const kube = createKubeAccess(controllerKubeConfig(source, { registry }), () => false);
    const ref = { namespace: 'shop', name: 'web' };
    const writes = [
      kube.apply({ apiVersion: 'v1', kind: 'Service', metadata: ref }),
      kube.patchStatus('canaries', ref, {}),
      kube.patchMetadata('canaries', ref, {}),
      kube.scaleDeployment(ref, 0),
      kube.createEvent({ metadata: ref } as k8s.CoreV1Event),
      kube.deleteObject({ apiVersion: 'v1', kind: 'Service', metadata: ref }),
    ];
    for (const w of writes) await expect(w).rejects.toMatchObject({ code: 'NotLeader' });
    // Nothing was sent.
    expect(await registry.metrics()).not.toMatch(/weir_kube_requests_total\{/);
  });
});
