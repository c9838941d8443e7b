import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import {
  affinityCookies,
  GatewayApiRouter,
  httpRoute,
} from '../../../src/routers/gateway-api-router.js';
import { canaryWith, type UnsupportedCase, offlineKubeConfig } from './fixtures.js';

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

describe('httpRoute: spec.service', () => {
  const routed = (service: Partial<Canary['spec']['service']>, analysis = {}) =>
    canaryWith({ service, analysis });
  const requestSet = {
    type: 'RequestHeaderModifier',
    requestHeaderModifier: { set: [{ name: 'x-routed-by', value: 'weir' }] },
  };

  it('carries the service matches, header changes, rewrite and mirrors on the weighted rule', () => {
    const c = routed({
      hosts: ['shop.example'],
      match: [{ uri: { prefix: '/api' }, method: { exact: 'GET' } }],
      headers: {
        request: { set: { 'x-routed-by': 'weir' } },
        response: { add: { 'x-served': 'yes' }, remove: ['server'] },
      },
      rewrite: { uri: '/v2', authority: 'api.internal' },
      mirror: [{ backendRef: { name: 'shadow', port: 80 } }],
    });
    const route = httpRoute(c, { canaryWeight: 30, matchToCanary: false }) as any;
    expect(route.spec.hostnames).toEqual(['shop.example']);
    expect(route.spec.rules).toEqual([
      {
        matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'GET' }],
        filters: [
          requestSet,
          {
            type: 'ResponseHeaderModifier',
            responseHeaderModifier: {
              add: [{ name: 'x-served', value: 'yes' }],
              remove: ['server'],
            },
          },
          {
            type: 'URLRewrite',
            // Without a type the full path is replaced, as in Flagger.
            urlRewrite: {
              hostname: 'api.internal',
              path: { type: 'ReplaceFullPath', replaceFullPath: '/v2' },
            },
          },
          {
            type: 'RequestMirror',
            requestMirror: { backendRef: { group: '', kind: 'Service', name: 'shadow', port: 80 } },
          },
        ],
        backendRefs: [ref('podinfo-primary', 70), ref('podinfo-canary', 30)],
      },
    ]);
  });

  it('narrows every A/B match with every service match, and keeps the filters on each rule', () => {
    const c = routed(
      {
        match: [
          { uri: { prefix: '/api' }, headers: { 'x-tenant': { exact: 'a' } } },
          { uri: { exact: '/health' } },
        ],
        headers: { request: { set: { 'x-routed-by': 'weir' } } },
      },
      {
        stepWeight: undefined,
        iterations: 2,
        match: [{ headers: { 'x-tenant': { exact: 'b' } } }],
      },
    );
    const rules = rulesOf(c, 0, { ab: true });
    expect(rules.map((r) => r.matches)).toEqual([
      [
        {
          path: { type: 'PathPrefix', value: '/api' },
          headers: [{ type: 'Exact', name: 'x-tenant', value: 'b' }],
        },
        {
          path: { type: 'Exact', value: '/health' },
          headers: [{ type: 'Exact', name: 'x-tenant', value: 'b' }],
        },
      ],
      [
        {
          path: { type: 'PathPrefix', value: '/api' },
          headers: [{ type: 'Exact', name: 'x-tenant', value: 'a' }],
        },
        { path: { type: 'Exact', value: '/health' } },
      ],
    ]);
    expect(rules.map((r) => r.filters)).toEqual([[requestSet], [requestSet]]);
  });

  it('joins the expiring Set-Cookie to the service response header changes (one modifier per rule)', () => {
    const c = released(
      routed(
        { headers: { response: { set: { 'x-served': 'yes' } } } },
        { sessionAffinity: { cookieName: 'pin' } },
      ),
    );
    expect(rulesOf(c, 0)[0]!.filters).toEqual([
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: {
          set: [{ name: 'x-served', value: 'yes' }],
          add: [{ name: 'Set-Cookie', value: 'pin=; Max-Age=0; Path=/' }],
        },
      },
    ]);
  });

  it('replaces a path prefix when rewrite.type says so', () => {
    const c = routed({
      match: [{ uri: { prefix: '/shop' } }],
      rewrite: { uri: '/', type: 'ReplacePrefixMatch' },
    });
    expect(rulesOf(c, 0)[0]!.filters).toEqual([
      {
        type: 'URLRewrite',
        urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
      },
    ]);
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
  const kubeConfig = offlineKubeConfig();
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
  it.each([
    {
      what: 'every field the HTTPRoute carries',
      service: {
        gatewayRefs: [{ name: 'public' }],
        hosts: ['a.example'],
        match: [{ uri: { regex: '/api/.*' }, queryParams: { v: { exact: '2' } } }],
        rewrite: { authority: 'b.example' },
        headers: { request: { remove: ['x-debug'] } },
        timeout: '5s',
        mirror: [{ backendRef: { name: 'shadow' } }],
      },
      message: undefined,
    },
    {
      what: 'retries, which the standard HTTPRoute lacks',
      service: { retries: { attempts: 3 } },
      message:
        /^spec\.service\.retries is not supported by the gatewayapi provider: the standard Gateway API HTTPRoute has no retry policy; configure retries with your Gateway implementation's own policy resource/,
    },
    {
      what: 'Istio gateways and traffic policy',
      service: { gateways: ['public'], trafficPolicy: { tls: { mode: 'SIMPLE' } } },
      message:
        /^spec\.service\.gateways is not supported by the gatewayapi provider: .*spec\.service\.gatewayRefs; spec\.service\.trafficPolicy is not supported by the gatewayapi provider: /,
    },
    {
      what: 'a match on what an HTTPRoute cannot test',
      service: { match: [{ uri: { prefix: '/' } }, { sourceLabels: { app: 'x' } }] },
      message:
        /^spec\.service\.match\[1\]\.sourceLabels cannot be expressed in a Gateway API HTTPRoute/,
    },
    {
      what: 'a method matched by prefix',
      service: { match: [{ method: { prefix: 'P' } }] },
      message:
        /^spec\.service\.match\[0\]\.method: a Gateway API HTTPRoute matches a method exactly only/,
    },
    {
      what: 'an unknown header operation',
      service: { headers: { request: { append: { a: 'b' } } } },
      message: /^spec\.service\.headers\.request\.append is not a header operation/,
    },
    {
      what: 'a prefix rewrite without one prefix match',
      service: {
        match: [{ uri: { exact: '/a' } }],
        rewrite: { uri: '/', type: 'ReplacePrefixMatch' },
      },
      message: /^spec\.service\.rewrite\.type ReplacePrefixMatch needs one path prefix/,
    },
  ] as { what: string; service: Partial<Canary['spec']['service']>; message?: RegExp }[])(
    'spec.service: $what',
    ({ service, message }) => {
      const problem = router.unsupported(canaryWith({ service }), 'canary');
      if (message) expect(problem).toMatch(message);
      else expect(problem).toBeUndefined();
    },
  );
});
