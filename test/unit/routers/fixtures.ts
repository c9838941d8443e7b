import * as k8s from '@kubernetes/client-node';
import type { Strategy } from '../../../src/api/strategy.js';
import type { Canary } from '../../../src/api/types.js';

/** A Canary `shop/podinfo` on port 9898, weighted (stepWeight 10), with `overrides` merged into its spec. */
export function canaryWith(overrides: {
  service?: Partial<Canary['spec']['service']>;
  analysis?: Partial<Canary['spec']['analysis']>;
  provider?: string;
}): Canary {
  return {
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop', uid: 'uid-1' },
    spec: {
      ...(overrides.provider ? { provider: overrides.provider } : {}),
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898, ...overrides.service },
      analysis: { interval: '10s', stepWeight: 10, maxWeight: 50, ...overrides.analysis },
    },
  } as Canary;
}

/** The owner reference of {@link canaryWith}'s Canary. */
export const owner = {
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'Canary',
  name: 'podinfo',
  uid: 'uid-1',
  controller: true,
  blockOwnerDeletion: true,
};

/** A row of an unsupported() table: the analysis, its strategy, and the message expected (none: supported). */
export interface UnsupportedCase {
  what: string;
  analysis: Partial<Canary['spec']['analysis']>;
  strategy: Strategy;
  message: RegExp | undefined;
}

/** A KubeConfig for routers built only to ask unsupported(): its server is never contacted. */
export function offlineKubeConfig(): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return kubeConfig;
}
