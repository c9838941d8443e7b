import { describe, expect, it } from 'vitest';
import { alertProviderTypes } from '../../../src/api/alert-provider-schema.js';
import { metricProviderTypes } from '../../../src/api/metric-template-schema.js';
import { buildMetricProviders } from '../../../src/analysis/providers.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import { buildNotifiers } from '../../../src/notifications/notifiers.js';
import { providerProblem, unsupportedBy } from '../../../src/routers/capabilities.js';
import { buildRouters, routerFamily } from '../../../src/routers/routers.js';
import { canaryWith, offlineKubeConfig } from './fixtures.js';

// One list per provider family builds the controller's providers and the tables lint
// reads: these fail when the two disagree.
describe('provider families', () => {
  const routers = buildRouters({
    kube: {} as KubeAccess,
    kubeConfig: offlineKubeConfig(),
    target: () => undefined,
  });

  it.each(routerFamily.map((r) => r.name))('router %s is built under its own name', (name) => {
    const router = routers.resolve(name);
    expect('error' in router ? router.error : router.name).toBe(name);
  });

  it('lint knows exactly the routers the controller builds, and names them alike', () => {
    expect(Object.keys(unsupportedBy).sort()).toEqual(routerFamily.map((r) => r.name).sort());
    const unknown = routers.resolve('appmesh');
    expect('error' in unknown && unknown.error).toBe(providerProblem('appmesh', canaryWith({})));
  });

  it('a router answers unsupported() as lint does', () => {
    const ab = canaryWith({ analysis: { match: [{ headers: { x: { exact: '1' } } }] } });
    for (const entry of routerFamily) {
      const router = routers.resolve(entry.name);
      if ('error' in router) throw new Error(router.error);
      expect(router.unsupported(ab, 'abTesting')).toBe(providerProblem(entry.name, ab));
    }
  });

  it.each([...metricProviderTypes])('metric provider %s is built', (type) => {
    const built = buildMetricProviders({}).provider({
      type,
      address: 'http://127.0.0.1:9090',
      headers: {},
      insecureSkipVerify: false,
      timeoutMs: 1_000,
    });
    expect('error' in built ? built.error : built.type).toBe(type);
  });

  it.each([...alertProviderTypes])('notifier %s is built under its own type', (type) => {
    const notifier = buildNotifiers().resolve(type);
    expect('error' in notifier ? notifier.error : notifier.type).toBe(type);
  });
});
