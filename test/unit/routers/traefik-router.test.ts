import { describe, expect, it } from 'vitest';
import {
  routesOfTraefikService,
  traefikService,
  traefikUnsupported,
} from '../../../src/routers/traefik-router.js';
import { canaryWith, owner, type UnsupportedCase } from './fixtures.js';

const canary = canaryWith({ provider: 'traefik' });
const svc = (name: string, extra: Record<string, unknown>) => ({
  kind: 'Service',
  name,
  port: 9898,
  ...extra,
});

describe('traefikService', () => {
  it.each([
    { canaryWeight: 0, services: [svc('podinfo-primary', { weight: 100 })] },
    {
      canaryWeight: 20,
      services: [svc('podinfo-primary', { weight: 80 }), svc('podinfo-canary', { weight: 20 })],
    },
    { canaryWeight: 100, services: [svc('podinfo-canary', { weight: 100 })] },
  ])(
    'weights the apex at $canaryWeight% canary, leaving out a Service at weight 0',
    ({ canaryWeight, services }) => {
      const object = traefikService(canary, { canaryWeight, matchToCanary: false });
      expect(object).toEqual({
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'TraefikService',
        metadata: {
          name: 'podinfo',
          namespace: 'shop',
          labels: { 'weir.dev/canary': 'podinfo' },
          ownerReferences: [owner],
        },
        spec: { weighted: { services } },
      });
      expect(routesOfTraefikService(canary, object as never)).toEqual({
        canaryWeight,
        matchToCanary: false,
        mirror: false,
      });
    },
  );

  it.each([
    { mirrorWeight: undefined, percent: 100 },
    { mirrorWeight: 25, percent: 25 },
  ])(
    'mirrors $percent% of the primary’s requests to the canary (mirrorWeight $mirrorWeight)',
    ({ mirrorWeight, percent }) => {
      const mirrored = canaryWith({
        analysis: { mirror: true, ...(mirrorWeight ? { mirrorWeight } : {}) },
      });
      const object = traefikService(mirrored, {
        canaryWeight: 0,
        matchToCanary: false,
        mirror: true,
      }) as any;
      expect(object.spec).toEqual({
        mirroring: {
          ...svc('podinfo-primary', {}),
          mirrors: [svc('podinfo-canary', { percent })],
        },
      });
      expect(routesOfTraefikService(mirrored, object)).toEqual({
        canaryWeight: 0,
        matchToCanary: false,
        mirror: true,
      });
    },
  );

  it('puts spec.service.apex labels and annotations on the TraefikService, keeping its own label', () => {
    const object = traefikService(
      canaryWith({ service: { apex: { labels: { team: 'shop' }, annotations: { note: 'x' } } } }),
      { canaryWeight: 10, matchToCanary: false },
    ) as any;
    expect(object.metadata.labels).toEqual({ team: 'shop', 'weir.dev/canary': 'podinfo' });
    expect(object.metadata.annotations).toEqual({ note: 'x' });
  });
});

describe('routesOfTraefikService', () => {
  it.each([
    { what: 'no object', object: undefined, routes: undefined },
    { what: 'an object with no services', object: { spec: {} }, routes: undefined },
    {
      what: 'weights that do not add up to 100',
      object: {
        spec: {
          weighted: {
            services: [svc('podinfo-primary', { weight: 3 }), svc('podinfo-canary', { weight: 1 })],
          },
        },
      },
      routes: { canaryWeight: 25, matchToCanary: false, mirror: false },
    },
  ])('reads $what', ({ object, routes }) => {
    expect(routesOfTraefikService(canary, object as never)).toEqual(routes);
  });
});

describe('traefikUnsupported', () => {
  it.each([
    { what: 'a weighted canary', analysis: {}, strategy: 'canary', message: undefined },
    {
      what: 'blue/green',
      analysis: { stepWeight: undefined, iterations: 2 },
      strategy: 'blueGreen',
      message: undefined,
    },
    {
      what: 'mirroring',
      analysis: { mirror: true, mirrorWeight: 50 },
      strategy: 'canary',
      message: undefined,
    },
    {
      what: 'A/B testing',
      analysis: {
        stepWeight: undefined,
        iterations: 2,
        match: [{ headers: { x: { exact: 'y' } } }],
      },
      strategy: 'abTesting',
      message:
        /^the traefik provider cannot route by header or query .*IngressRoute.*: remove analysis.match/,
    },
    {
      what: 'session affinity',
      analysis: { sessionAffinity: { cookieName: 'canary' } },
      strategy: 'canary',
      message:
        /^the traefik provider cannot pin sessions to the canary: Traefik's sticky cookie also pins users to the primary/,
    },
  ] satisfies UnsupportedCase[])('$what', ({ analysis, strategy, message }) => {
    const result = traefikUnsupported(canaryWith({ analysis }), strategy);
    if (message === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(message);
  });
});

describe('traefikUnsupported: spec.service', () => {
  it('rejects what belongs on the IngressRoute, naming what to use there', () => {
    const result = traefikUnsupported(
      canaryWith({ service: { hosts: ['shop.example'], retries: { attempts: 2 } } }),
      'canary',
    );
    expect(result).toMatch(
      /^spec\.service\.hosts is not supported by the traefik provider: the Host\(\) rule belongs on your IngressRoute .*; spec\.service\.retries is not supported by the traefik provider: a Retry Middleware belongs on your IngressRoute/,
    );
  });

  it('accepts the apex metadata, which goes on the TraefikService', () => {
    const canary = canaryWith({ service: { apex: { annotations: { a: 'b' } }, portName: 'web' } });
    expect(traefikUnsupported(canary, 'canary')).toBeUndefined();
  });
});
