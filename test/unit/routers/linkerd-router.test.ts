import { describe, expect, it } from 'vitest';
import {
  routesOfTrafficSplit,
  trafficSplit,
  trafficSplitUnsupported,
} from '../../../src/routers/linkerd-router.js';
import { canaryWith, owner, type UnsupportedCase } from './fixtures.js';

const canary = canaryWith({ provider: 'linkerd' });

describe('trafficSplit', () => {
  it.each([
    { canaryWeight: 0, primary: 100 },
    { canaryWeight: 30, primary: 70 },
    { canaryWeight: 100, primary: 0 },
  ])(
    'splits the apex $primary/$canaryWeight between primary and canary',
    ({ canaryWeight, primary }) => {
      const split = trafficSplit(canary, { canaryWeight, matchToCanary: false });
      expect(split).toEqual({
        apiVersion: 'split.smi-spec.io/v1alpha2',
        kind: 'TrafficSplit',
        metadata: {
          name: 'podinfo',
          namespace: 'shop',
          labels: { 'weir.dev/canary': 'podinfo' },
          ownerReferences: [owner],
        },
        spec: {
          service: 'podinfo',
          backends: [
            { service: 'podinfo-primary', weight: primary },
            { service: 'podinfo-canary', weight: canaryWeight },
          ],
        },
      });
      // What is written reads back as the same split.
      expect(routesOfTrafficSplit(canary, split as never)).toEqual({
        canaryWeight,
        matchToCanary: false,
        mirror: false,
      });
    },
  );

  it('divides the Service spec.service.hosts names, as Flagger does', () => {
    const split = trafficSplit(canaryWith({ service: { hosts: ['web'] } }), {
      canaryWeight: 10,
      matchToCanary: false,
    }) as any;
    expect(split.metadata.name).toBe('podinfo');
    expect(split.spec.service).toBe('web');
    expect(split.spec.backends.map((b: any) => b.service)).toEqual([
      'podinfo-primary',
      'podinfo-canary',
    ]);
  });

  it('names the apex after spec.service.name when it is set', () => {
    const split = trafficSplit(canaryWith({ service: { name: 'web' } }), {
      canaryWeight: 10,
      matchToCanary: false,
    }) as any;
    expect(split.metadata.name).toBe('web');
    expect(split.spec.service).toBe('web');
    expect(split.spec.backends.map((b: any) => b.service)).toEqual(['web-primary', 'web-canary']);
  });
});

describe('routesOfTrafficSplit', () => {
  it.each([
    { what: 'no object', split: undefined, routes: undefined },
    {
      what: 'other backends only',
      split: { spec: { backends: [{ service: 'x', weight: 1 }] } },
      routes: undefined,
    },
    {
      what: 'v1alpha1-style quantities',
      split: {
        spec: {
          backends: [
            { service: 'podinfo-primary', weight: '900' },
            { service: 'podinfo-canary', weight: '100' },
          ],
        },
      },
      routes: { canaryWeight: 10, matchToCanary: false, mirror: false },
    },
  ])('reads $what', ({ split, routes }) => {
    expect(routesOfTrafficSplit(canary, split as never)).toEqual(routes);
  });
});

describe('trafficSplitUnsupported', () => {
  it.each([
    { what: 'a weighted canary', analysis: {}, strategy: 'canary', message: undefined },
    {
      what: 'blue/green (weights 0/100)',
      analysis: { stepWeight: undefined, iterations: 3 },
      strategy: 'blueGreen',
      message: undefined,
    },
    {
      what: 'A/B testing',
      analysis: {
        stepWeight: undefined,
        iterations: 3,
        match: [{ headers: { x: { exact: 'y' } } }],
      },
      strategy: 'abTesting',
      message:
        /^the linkerd provider routes with an SMI TrafficSplit, which can only split by weight: remove analysis.match/,
    },
    {
      what: 'mirroring',
      analysis: { mirror: true },
      strategy: 'canary',
      message: /^the linkerd provider cannot mirror traffic/,
    },
    {
      what: 'session affinity',
      analysis: { sessionAffinity: { cookieName: 'canary' } },
      strategy: 'canary',
      message: /^the linkerd provider cannot pin sessions to the canary/,
    },
  ] satisfies UnsupportedCase[])('$what: $message', ({ analysis, strategy, message }) => {
    const result = trafficSplitUnsupported('linkerd', canaryWith({ analysis }), strategy);
    if (message === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(message);
  });

  it.each([
    {
      what: 'retries and timeout',
      service: { retries: { attempts: 2 }, timeout: '5s' },
      message:
        /^spec\.service\.timeout is not supported by the linkerd provider: .*timeout\.linkerd\.io annotations on the apex Service through spec\.service\.apex\.annotations; spec\.service\.retries is not supported by the linkerd provider: .*retry\.linkerd\.io/,
    },
    {
      what: 'Istio gateways',
      service: { gateways: ['public'] },
      message:
        /^spec\.service\.gateways is not supported by the linkerd provider: .*Istio gateways/,
    },
    { what: 'one host, the root Service', service: { hosts: ['web'] }, message: undefined },
    {
      what: 'two hosts',
      service: { hosts: ['web', 'www'] },
      message: /^spec\.service\.hosts: the linkerd provider's TrafficSplit divides one Service/,
    },
    {
      what: 'a host that is no Service name',
      service: { hosts: ['shop.example.com'] },
      message: /^spec\.service\.hosts\[0\] "shop\.example\.com" is not a Service name/,
    },
  ])('spec.service: $what', ({ service, message }) => {
    const result = trafficSplitUnsupported('linkerd', canaryWith({ service }), 'canary');
    if (message === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(message);
  });

  it('names the provider it was registered as', () => {
    expect(
      trafficSplitUnsupported('smi', canaryWith({ analysis: { mirror: true } }), 'canary'),
    ).toMatch(/^the smi provider/);
  });
});
