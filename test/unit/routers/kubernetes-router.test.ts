import { describe, expect, it } from 'vitest';
import type { KubeAccess } from '../../../src/kube/access.js';
import { KubernetesRouter } from '../../../src/routers/kubernetes-router.js';
import { canaryWith, type UnsupportedCase } from './fixtures.js';

describe('KubernetesRouter.unsupported', () => {
  // Never contacted: unsupported() is pure.
  const router = new KubernetesRouter({} as KubeAccess, () => undefined);
  const blueGreen = { stepWeight: undefined, iterations: 3 };
  it.each([
    { what: 'blue/green', analysis: blueGreen, strategy: 'blueGreen', message: undefined },
    {
      what: 'a weighted canary',
      analysis: {},
      strategy: 'canary',
      message: /^the kubernetes provider cannot split traffic by weight/,
    },
    {
      what: 'A/B testing',
      analysis: { ...blueGreen, match: [{ headers: { a: { exact: 'b' } } }] },
      strategy: 'abTesting',
      message: /^the kubernetes provider cannot route by request headers/,
    },
    {
      what: 'blue/green with mirroring',
      analysis: { ...blueGreen, mirror: true },
      strategy: 'blueGreen',
      message: /^the kubernetes provider cannot mirror traffic/,
    },
    {
      what: 'blue/green with session affinity',
      analysis: { ...blueGreen, sessionAffinity: { cookieName: 'canary' } },
      strategy: 'blueGreen',
      message: /^the kubernetes provider cannot pin sessions by cookie/,
    },
  ] satisfies UnsupportedCase[])('$what', ({ analysis, strategy, message }) => {
    const problem = router.unsupported(canaryWith({ analysis }), strategy);
    if (message) expect(problem).toMatch(message);
    else expect(problem).toBeUndefined();
  });

  it('rejects routing fields a Service cannot carry, and accepts the Services’ own', () => {
    const routed = canaryWith({
      analysis: blueGreen,
      service: { timeout: '5s', portDiscovery: true, canary: { labels: { a: 'b' } } },
    });
    expect(router.unsupported(routed, 'blueGreen')).toMatch(
      /^spec\.service\.timeout is not supported by the kubernetes provider: a Service has no HTTP routing .*use a mesh or Gateway API provider/,
    );
    const plain = canaryWith({ analysis: blueGreen, service: { portDiscovery: true } });
    expect(router.unsupported(plain, 'blueGreen')).toBeUndefined();
  });
});
