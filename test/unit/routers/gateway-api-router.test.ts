import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import {
  affinityCookies,
  GatewayApiRouter,
  httpRoute,
} from '../../../src/routers/gateway-api-router.js';
import { canaryWith, type UnsupportedCase } from './fixtures.js';

type Rule = {
  matches?: { headers?: { type: string; name: string; value: string }[] }[];
  filters?: Record<string, any>[];
  backendRefs: { name: string; weight: number; filters?: Record<string, any>[] }[];
};
const rulesOf = (
  canary: Canary,
  canaryWeight: number,
  extra: { mirror?: boolean; ab?: boolean } = {},
) =>
  (
    httpRoute(canary, {
      canaryWeight,
      matchToCanary: extra.ab ?? false,
      ...(extra.mirror !== undefined ? { mirror: extra.mirror } : {}),
    }).spec as { rules: Rule[] }
  ).rules;
const ref = (name: string, weight: number, filters?: unknown[]) => ({
  group: '',
  kind: 'Service',
  name,
  port: 9898,
  weight,
  ...(filters ? { filters } : {}),
});
const released = (c: Canary, revision = 'rev-a'): Canary => ({
  ...c,
  status: { lastAppliedSpec: revision } as Canary['status'],
});

describe('httpRoute', () => {
  it.each([0, 40, 100])('one weighted rule at %i% canary', (w) => {
    expect(rulesOf(canaryWith({}), w)).toEqual([
      { backendRefs: [ref('podinfo-primary', 100 - w), ref('podinfo-canary', w)] },
    ]);
  });

  it('A/B: matching requests go to the canary, ahead of the weighted rule', () => {
    const c = canaryWith({
      analysis: {
        stepWeight: undefined,
        iterations: 3,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
    });
    expect(rulesOf(c, 0, { ab: true })).toEqual([
      {
        matches: [{ headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }] }],
        backendRefs: [ref('podinfo-primary', 0), ref('podinfo-canary', 100)],
      },
      { backendRefs: [ref('podinfo-primary', 100), ref('podinfo-canary', 0)] },
    ]);
  });

  const mirrorFilter = (percent?: number) => ({
    type: 'RequestMirror',
    requestMirror: {
      backendRef: { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898 },
      ...(percent !== undefined ? { percent } : {}),
    },
  });
  it.each([
    {
      what: 'all traffic without mirrorWeight',
      mirrorWeight: undefined,
      mirror: true,
      filters: [mirrorFilter()],
    },
    { what: 'mirrorWeight percent', mirrorWeight: 25, mirror: true, filters: [mirrorFilter(25)] },
    { what: 'nothing once mirroring ends', mirrorWeight: 25, mirror: false, filters: undefined },
  ])('mirrors $what to <apex>-canary on the weighted rule', ({ mirrorWeight, mirror, filters }) => {
    const c = canaryWith({
      analysis: {
        stepWeight: undefined,
        iterations: 3,
        mirror: true,
        ...(mirrorWeight !== undefined ? { mirrorWeight } : {}),
      },
    });
    const rules = rulesOf(c, 0, { mirror });
    expect(rules).toHaveLength(1);
    expect(rules[0]!.filters).toEqual(filters);
    expect(rules[0]!.backendRefs).toEqual([ref('podinfo-primary', 100), ref('podinfo-canary', 0)]);
  });
});

describe('session affinity', () => {
  const sticky = released(
    canaryWith({ analysis: { sessionAffinity: { cookieName: 'pin', maxAge: 600 } } }),
  );
  const both = released(
    canaryWith({
      analysis: { sessionAffinity: { cookieName: 'pin', primaryCookieName: 'stay' } },
    }),
  );
  const value = affinityCookies(sticky)!.canary.value;
  const cookieRe = (name: string, v: string) => `^(.*; ?)?${name}=${v}(;.*)?$`;
  const setCookie = (v: string) => ({
    type: 'ResponseHeaderModifier',
    responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: v }] },
  });

  it('the cookie value is stable for a release and new for the next', () => {
    expect(value).toMatch(/^[0-9a-f]{16}$/);
    expect(affinityCookies(released(sticky))!.canary.value).toBe(value);
    expect(affinityCookies(released(sticky, 'rev-b'))!.canary.value).not.toBe(value);
    expect(affinityCookies(both)!.primary!.value).not.toBe(affinityCookies(both)!.canary.value);
  });

  it.each([10, 50, 100])(
    'at %i%: holders of the cookie reach the canary, canary answers hand it out',
    (w) => {
      expect(rulesOf(sticky, w)).toEqual([
        {
          matches: [
            {
              headers: [
                { type: 'RegularExpression', name: 'Cookie', value: cookieRe('pin', value) },
              ],
            },
          ],
          backendRefs: [ref('podinfo-primary', 0), ref('podinfo-canary', 100)],
        },
        {
          backendRefs: [
            ref('podinfo-primary', 100 - w),
            ref('podinfo-canary', w, [setCookie(`pin=${value}; Max-Age=600; Path=/`)]),
          ],
        },
      ]);
    },
  );

  it('at 0%: a cookie still held is expired and its holder served by the primary', () => {
    expect(rulesOf(sticky, 0)).toEqual([
      {
        matches: [
          {
            headers: [
              { type: 'RegularExpression', name: 'Cookie', value: cookieRe('pin', '[^;]*') },
            ],
          },
        ],
        filters: [setCookie('pin=; Max-Age=0; Path=/')],
        backendRefs: [ref('podinfo-primary', 100), ref('podinfo-canary', 0)],
      },
      { backendRefs: [ref('podinfo-primary', 100), ref('podinfo-canary', 0)] },
    ]);
  });

  it('primaryCookieName pins primary users to the primary the same way', () => {
    const c = affinityCookies(both)!;
    const rules = rulesOf(both, 20);
    expect(rules.map((r) => r.matches?.[0]?.headers?.[0]?.value)).toEqual([
      cookieRe('pin', c.canary.value),
      cookieRe('stay', c.primary!.value),
      undefined,
    ]);
    expect(rules[1]!.backendRefs).toEqual([ref('podinfo-primary', 100), ref('podinfo-canary', 0)]);
    expect(rules[2]!.backendRefs).toEqual([
      ref('podinfo-primary', 80, [setCookie(`stay=${c.primary!.value}; Max-Age=86400; Path=/`)]),
      ref('podinfo-canary', 20, [setCookie(`pin=${c.canary.value}; Max-Age=86400; Path=/`)]),
    ]);
    expect(
      rulesOf(both, 0).map((r) => r.filters?.[0]?.responseHeaderModifier.add[0].value),
    ).toEqual(['pin=; Max-Age=0; Path=/', 'stay=; Max-Age=0; Path=/', undefined]);
  });

  it('the Cookie pattern finds the cookie anywhere in the header, and only with its value', () => {
    const re = new RegExp(cookieRe('pin', value));
    expect(re.test(`pin=${value}`)).toBe(true);
    expect(re.test(`a=1; pin=${value}; b=2`)).toBe(true);
    expect(re.test(`a=1;pin=${value}`)).toBe(true);
    expect(re.test(`pin=other`)).toBe(false);
    expect(re.test(`xpin=${value}`)).toBe(false);
    expect(re.test(`pin=${value}x`)).toBe(false);
  });
});

describe('GatewayApiRouter.unsupported', () => {
  // Never contacted: unsupported() is pure.
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  const router = new GatewayApiRouter({} as KubeAccess, kubeConfig);
  const cases: UnsupportedCase[] = [
    { what: 'a weighted canary', analysis: {}, strategy: 'canary', message: undefined },
    {
      what: 'blue/green with mirroring',
      analysis: { stepWeight: undefined, iterations: 3, mirror: true },
      strategy: 'blueGreen',
      message: undefined,
    },
    {
      what: 'session affinity on a weighted canary',
      analysis: { sessionAffinity: { cookieName: 'pin' } },
      strategy: 'canary',
      message: undefined,
    },
    {
      what: 'session affinity with blue/green',
      analysis: { stepWeight: undefined, iterations: 3, sessionAffinity: { cookieName: 'pin' } },
      strategy: 'blueGreen',
      message: /sessionAffinity pins users who reached the canary through its weight/,
    },
    {
      what: 'mirroring with A/B',
      analysis: { iterations: 3, mirror: true, match: [{ headers: { a: { exact: '1' } } }] },
      strategy: 'abTesting',
      message: /analysis\.mirror works with blue\/green .* not with A\/B testing/,
    },
    {
      what: 'Istio source labels',
      analysis: {
        iterations: 3,
        match: [{ headers: { a: { exact: '1' } } }, { sourceLabels: { app: 'x' } }],
      },
      strategy: 'abTesting',
      message: /analysis\.match\[1\]\.sourceLabels .* only Istio can do/,
    },
  ];
  it.each(cases)('$what', ({ analysis, strategy, message }) => {
    const problem = router.unsupported(canaryWith({ analysis }), strategy);
    if (message) expect(problem).toMatch(message);
    else expect(problem).toBeUndefined();
  });
});
