import { describe, expect, it } from 'vitest';
import type { KubeAccess } from '../../../src/kube/access.js';
import { strategyOf } from '../../../src/api/strategy.js';
import { ApisixRouter } from '../../../src/routers/apisix-router.js';
import { providerProblem, unsupportedBy } from '../../../src/routers/capabilities.js';
import { ContourRouter } from '../../../src/routers/contour-router.js';
import { GatewayApiRouter } from '../../../src/routers/gateway-api-router.js';
import { IstioRouter } from '../../../src/routers/istio-router.js';
import { KnativeRouter } from '../../../src/routers/knative-router.js';
import { KubernetesRouter } from '../../../src/routers/kubernetes-router.js';
import { KumaRouter } from '../../../src/routers/kuma-router.js';
import { LinkerdRouter } from '../../../src/routers/linkerd-router.js';
import { NginxRouter } from '../../../src/routers/nginx-router.js';
import type { Router } from '../../../src/routers/router.js';
import { SkipperRouter } from '../../../src/routers/skipper-router.js';
import { TraefikRouter } from '../../../src/routers/traefik-router.js';
import { canaryWith, offlineKubeConfig } from './fixtures.js';

// The routers are built as the controller builds them; unsupported() is decided
// from the Canary alone, so nothing here talks to the (never contacted) server.
const kubeConfig = offlineKubeConfig();
const kube = new Proxy({} as KubeAccess, {
  get: () => () => Promise.reject(new Error('no API calls in this test')),
});
const routers: Router[] = [
  new GatewayApiRouter(kube, kubeConfig),
  new IstioRouter(kube, kubeConfig),
  new LinkerdRouter(kube, kubeConfig),
  new LinkerdRouter(kube, kubeConfig, 'smi'),
  new TraefikRouter(kube, kubeConfig),
  new ContourRouter(kube, kubeConfig),
  new NginxRouter(kube, async () => undefined),
  new SkipperRouter(kube, async () => undefined),
  new ApisixRouter(kube, async () => undefined),
  new KumaRouter(kube, async () => undefined),
  new KubernetesRouter(kube, () => undefined),
  new KnativeRouter(kube, () => undefined),
];

const canaries = [
  canaryWith({}),
  canaryWith({ analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 2 } }),
  canaryWith({
    analysis: {
      stepWeight: undefined,
      maxWeight: undefined,
      iterations: 2,
      match: [{ headers: { 'x-canary': { exact: 'on' } } }],
    },
  }),
  canaryWith({
    analysis: {
      stepWeight: undefined,
      maxWeight: undefined,
      iterations: 2,
      mirror: true,
      mirrorWeight: 50,
    },
  }),
  canaryWith({ analysis: { sessionAffinity: { cookieName: 'canary' } } }),
  canaryWith({ service: { timeout: '5s', hosts: ['shop.example.test'] } }),
  canaryWith({ service: { gatewayRefs: [{ name: 'public' }] } }),
  canaryWith({
    analysis: {
      stepWeight: undefined,
      maxWeight: undefined,
      iterations: 2,
      match: [{ sourceLabels: { app: 'frontend' } }],
    },
  }),
];

describe('unsupportedBy', () => {
  it('has an entry for every router, giving the answer its router gives', () => {
    expect(Object.keys(unsupportedBy).sort()).toEqual(routers.map((r) => r.name).sort());
    for (const router of routers) {
      for (const canary of canaries) {
        const strategy = strategyOf(canary.spec.analysis);
        expect(unsupportedBy[router.name]!(canary, strategy), router.name).toBe(
          router.unsupported(canary, strategy),
        );
      }
    }
  });

  it('is not a table of yeses: each router refuses something', () => {
    for (const router of routers)
      expect(
        canaries.some((c) => providerProblem(router.name, c) !== undefined),
        router.name,
      ).toBe(true);
  });

  it('resolves gatewayapi:v1 to the gatewayapi provider and names the known ones otherwise', () => {
    expect(providerProblem('gatewayapi:v1', canaryWith({}))).toBeUndefined();
    expect(providerProblem('appmesh', canaryWith({}))).toBe(
      'unknown provider "appmesh": Weir supports apisix, contour, gatewayapi, istio, knative, kubernetes, kuma, linkerd, nginx, skipper, smi, traefik',
    );
  });
});
