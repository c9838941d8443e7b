import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis, CanaryService } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { Strategy } from '../api/strategy.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import type { Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';

/**
 * The pure half of the Istio router: the VirtualService and DestinationRules for
 * a Canary and a split, and the split read back from a VirtualService. No I/O.
 */

/** Istio's networking API version; the CRDs serve v1 (and v1beta1, v1alpha3 for older clients). */
export const istioApiVersion = 'networking.istio.io/v1';
/** Annotation on an adopted VirtualService: its spec as the user had it, JSON, restored on deletion. */
export const originalSpecAnnotation = 'weir.dev/original-spec';

/**
 * Names of the HTTP routes Weir writes, in their order. They show up in Envoy's
 * access logs and stats, and getRoutes finds the split by them.
 */
export const routeNames = {
  canaryCookie: 'canary-cookie',
  primaryCookie: 'primary-cookie',
  abTest: 'ab-test',
  weighted: 'weighted',
} as const;

type Json = Record<string, unknown>;

/** An Istio object as Weir applies it. */
export interface IstioObject extends k8s.KubernetesObject {
  metadata: k8s.V1ObjectMeta & { name: string; namespace: string };
  spec: Json;
}

/** A VirtualService Weir took over from its user (`revertOnDeletion`): what to give back. */
export interface Adoption {
  /** The user's spec, JSON, exactly as read before Weir first wrote to it. */
  originalSpec: string;
}

/** A TCP service (`appProtocol: tcp`) is routed with `tcp` routes: weights only. */
export function isTcp(canary: Canary): boolean {
  return canary.spec.service.appProtocol?.toLowerCase() === 'tcp';
}

/** The routing fields of spec.service an HTTP VirtualService and its DestinationRules carry. */
export const istioServiceFields: ServiceFieldSupport = {
  honoured: [
    'gateways',
    'hosts',
    'delegation',
    'trafficPolicy',
    'match',
    'rewrite',
    'retries',
    'headers',
    'corsPolicy',
    'timeout',
  ],
  instead: {
    gatewayRefs:
      'Gateway API parents are for the gatewayapi provider; the istio provider attaches to the Istio Gateways listed in spec.service.gateways',
    mirror:
      'Gateway API mirror backends are for the gatewayapi provider; with istio, analysis.mirror mirrors traffic to the canary',
  },
};

const tcpRoute =
  'an Istio TCP route (appProtocol: tcp) carries only weights and ports; remove it, or use an HTTP appProtocol';

/** A TCP service is routed with `tcp` routes, which have none of the HTTP fields. */
export const istioTcpServiceFields: ServiceFieldSupport = {
  honoured: ['gateways', 'hosts', 'delegation', 'trafficPolicy', 'match'],
  instead: {
    ...istioServiceFields.instead,
    rewrite: tcpRoute,
    retries: tcpRoute,
    headers: tcpRoute,
    corsPolicy: tcpRoute,
    timeout: tcpRoute,
  },
};

/** Why the istio provider cannot run a Canary as declared, or undefined when it can. */
export function istioUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const s = canary.spec.service;
  const analysis = canary.spec.analysis;
  const fields = serviceFieldsUnsupported(
    'istio',
    canary,
    isTcp(canary) ? istioTcpServiceFields : istioServiceFields,
  );
  if (fields) return fields;
  if (s.delegation && (s.hosts?.length || s.gateways?.length))
    return 'spec.service.delegation: a delegate VirtualService has no hosts or gateways (the including VirtualService has them); remove spec.service.hosts and spec.service.gateways, or turn delegation off';
  if (isTcp(canary)) {
    for (const [i, m] of (s.match ?? []).entries()) {
      const other = Object.keys(m).filter((k) => k !== 'port');
      if (other.length > 0)
        return `spec.service.match[${i}]: the istio provider matches a TCP service (appProtocol: tcp) by port only; remove ${other.join(', ')}`;
    }
    if (strategy === 'abTesting')
      return 'the istio provider cannot match requests of a TCP service (appProtocol: tcp): use stepWeight or iterations';
    if (analysis.mirror)
      return 'the istio provider cannot mirror TCP traffic (appProtocol: tcp): remove analysis.mirror';
    if (analysis.sessionAffinity)
      return 'analysis.sessionAffinity needs HTTP cookies, which a TCP service (appProtocol: tcp) has none of';
  }
  if (analysis.sessionAffinity && strategy !== 'canary')
    return 'analysis.sessionAffinity pins users to the canary while traffic is split by weight: it needs stepWeight or stepWeights, not iterations (blue/green) or match (A/B testing), which route by rule';
  return undefined;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type ValueMatch = NonNullable<NonNullable<CanaryAnalysis['match']>[number]['headers']>[string];

/**
 * An Istio StringMatch. Istio has no suffix match, and no prefix match for query
 * parameters: those become RE2 regular expressions, which Envoy matches against
 * the whole value.
 */
function stringMatch(m: ValueMatch, prefixAllowed: boolean): Json {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined)
    return prefixAllowed ? { prefix: m.prefix } : { regex: `${escapeRegex(m.prefix)}.*` };
  if (m.suffix !== undefined) return { regex: `.*${escapeRegex(m.suffix)}` };
  return { regex: m.regex ?? '.*' };
}

const mapValues = (
  record: Record<string, ValueMatch> | undefined,
  prefixAllowed: boolean,
): Json | undefined =>
  record &&
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, stringMatch(v, prefixAllowed)]));

/** Istio HTTPMatchRequests for `analysis.match` (headers, query parameters, source labels). */
export function analysisMatches(analysis: CanaryAnalysis): Json[] {
  return (analysis.match ?? []).map((m) => {
    const headers = mapValues(m.headers, true);
    const queryParams = mapValues(m.queryParams, false);
    return {
      ...(headers ? { headers } : {}),
      ...(queryParams ? { queryParams } : {}),
      ...(m.sourceLabels ? { sourceLabels: m.sourceLabels } : {}),
    };
  });
}

/**
 * Every extra condition combined with every match of `spec.service.match`: the
 * apex matches still restrict which requests the VirtualService handles, and the
 * extra ones (A/B, cookies) narrow them further. Map fields merge, key by key.
 */
export function mergeMatches(extra: Json[], base: Json[] | undefined): Json[] {
  const bases = base && base.length > 0 ? base : [{}];
  return extra.flatMap((e) =>
    bases.map((b) => {
      const merged: Json = { ...b };
      for (const [key, value] of Object.entries(e)) {
        const prior = merged[key];
        merged[key] =
          prior && typeof prior === 'object' && value && typeof value === 'object'
            ? { ...(prior as Json), ...(value as Json) }
            : value;
      }
      return merged;
    }),
  );
}

function rewriteOf(rewrite: NonNullable<CanaryService['rewrite']>): Json {
  const authority = rewrite.authority !== undefined ? { authority: rewrite.authority } : {};
  if (rewrite.uri === undefined) return authority;
  // Istio's `uri` replaces the matched prefix; a full-path rewrite is a regex rewrite of the whole path.
  return rewrite.type === 'ReplaceFullPath'
    ? { uriRegexRewrite: { match: '^.*$', rewrite: rewrite.uri }, ...authority }
    : { uri: rewrite.uri, ...authority };
}

/** The fields of `spec.service` every HTTP route carries (rewrite, timeout, retries, headers, CORS). */
function commonRoute(s: CanaryService): Json {
  return {
    ...(s.rewrite && Object.keys(rewriteOf(s.rewrite)).length > 0
      ? { rewrite: rewriteOf(s.rewrite) }
      : {}),
    ...(s.timeout ? { timeout: s.timeout } : {}),
    ...(s.retries ? { retries: s.retries } : {}),
    ...(s.headers ? { headers: s.headers } : {}),
    ...(s.corsPolicy ? { corsPolicy: s.corsPolicy } : {}),
  };
}

/** A session-affinity cookie: its name, its value for this release, and the Set-Cookie that gives it. */
export interface AffinityCookie {
  name: string;
  value: string;
  setCookie: string;
}

/**
 * The cookies of `analysis.sessionAffinity` for the release in progress. The
 * value is derived from the Canary's uid and the revision being released
 * (`status.lastAppliedSpec`), so it is the same on every step and after a
 * controller restart, and a cookie from an earlier release pins no one.
 */
export function affinityCookies(
  canary: Canary,
): { canary: AffinityCookie; primary?: AffinityCookie } | undefined {
  const affinity = canary.spec.analysis.sessionAffinity;
  if (!affinity) return undefined;
  const maxAge = affinity.maxAge ?? 86400;
  const cookie = (role: string, name: string): AffinityCookie => {
    const value = createHash('sha256')
      .update(`${role}/${canary.metadata.uid ?? ''}/${canary.status?.lastAppliedSpec ?? ''}`)
      .digest('hex')
      .slice(0, 16);
    return { name, value, setCookie: `${name}=${value}; Max-Age=${maxAge}; Path=/` };
  };
  return {
    canary: cookie('canary', affinity.cookieName),
    ...(affinity.primaryCookieName
      ? { primary: cookie('primary', affinity.primaryCookieName) }
      : {}),
  };
}

/** A `cookie` header match for one cookie, wherever it sits in the header. */
function cookieMatch(c: AffinityCookie): Json {
  return { headers: { cookie: { regex: `^(.*?;)?\\s*${escapeRegex(c.name)}=${c.value}(;.*)?$` } } };
}

const setCookie = (c: AffinityCookie | undefined): Json =>
  c ? { headers: { response: { add: { 'Set-Cookie': c.setCookie } } } } : {};

function destination(host: string, port: number, weight: number, extra: Json = {}): Json {
  return { destination: { host, port: { number: port } }, weight, ...extra };
}

/** The `http` routes for a split: cookie routes, the A/B route, then the weighted route. */
function httpRoutes(canary: Canary, routes: Routes): Json[] {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const analysis = canary.spec.analysis;
  const common = commonRoute(s);
  const apexMatch = s.match?.length ? { match: s.match } : {};
  const only = (host: 'primary' | 'canary') => [
    destination(names.apexPrimary, s.port, host === 'primary' ? 100 : 0),
    destination(names.apexCanary, s.port, host === 'canary' ? 100 : 0),
  ];
  const w = routes.canaryWeight;
  // Stickiness only while traffic is split: at 0 and 100 there is nothing to stick to.
  const cookies = w > 0 && w < 100 ? affinityCookies(canary) : undefined;
  const http: Json[] = [];
  if (cookies) {
    http.push({
      name: routeNames.canaryCookie,
      match: mergeMatches([cookieMatch(cookies.canary)], s.match),
      ...common,
      route: only('canary'),
    });
    if (cookies.primary)
      http.push({
        name: routeNames.primaryCookie,
        match: mergeMatches([cookieMatch(cookies.primary)], s.match),
        ...common,
        route: only('primary'),
      });
  }
  if (routes.matchToCanary && analysis.match?.length) {
    http.push({
      name: routeNames.abTest,
      match: mergeMatches(analysisMatches(analysis), s.match),
      ...common,
      route: only('canary'),
    });
  }
  const mirrorWeight = analysis.mirrorWeight;
  http.push({
    name: routeNames.weighted,
    ...apexMatch,
    ...common,
    route: [
      destination(names.apexPrimary, s.port, 100 - w, setCookie(cookies?.primary)),
      destination(names.apexCanary, s.port, w, setCookie(cookies?.canary)),
    ],
    ...(routes.mirror
      ? {
          mirror: { host: names.apexCanary, port: { number: s.port } },
          // As in Flagger, an unset (or zero) mirrorWeight mirrors everything.
          mirrorPercentage: { value: mirrorWeight ? mirrorWeight : 100 },
        }
      : {}),
  });
  return http;
}

/** The `tcp` route for a TCP service: weights only, matched on the ports of `spec.service.match`. */
function tcpRoutes(canary: Canary, routes: Routes): Json[] {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const ports = (s.match ?? []).filter((m) => m.port !== undefined).map((m) => ({ port: m.port }));
  return [
    {
      ...(ports.length ? { match: ports } : {}),
      route: [
        destination(names.apexPrimary, s.port, 100 - routes.canaryWeight),
        destination(names.apexCanary, s.port, routes.canaryWeight),
      ],
    },
  ];
}

/** The VirtualService spec for a split (Flagger's hosts, gateways and route layout). */
export function virtualServiceSpec(canary: Canary, routes: Routes): Json {
  const s = canary.spec.service;
  const apex = namesOf(canary).apex;
  // A delegate VirtualService is included by another one, which owns hosts and gateways.
  const hosts = s.delegation ? [] : [...(s.hosts ?? [])];
  if (!s.delegation && !hosts.includes(apex) && !hosts.includes('*')) hosts.push(apex);
  const gateways = s.delegation ? [] : s.gateways?.length ? s.gateways : ['mesh'];
  return {
    hosts,
    gateways,
    ...(isTcp(canary) ? { tcp: tcpRoutes(canary, routes) } : { http: httpRoutes(canary, routes) }),
  };
}

/**
 * The VirtualService `<apex>` for a split. One Weir generated carries the apex
 * metadata, the Canary label and an owner reference; an adopted one (the user's,
 * under `revertOnDeletion`) carries only the Canary label and the user's original
 * spec, so that restoring it leaves none of Weir's fields behind and garbage
 * collection never deletes it.
 */
export function virtualService(canary: Canary, routes: Routes, adoption?: Adoption): IstioObject {
  const meta = { name: namesOf(canary).apex, namespace: canary.metadata.namespace! };
  const apexMeta = canary.spec.service.apex;
  return {
    apiVersion: istioApiVersion,
    kind: 'VirtualService',
    metadata: adoption
      ? {
          ...meta,
          labels: { [canaryLabel]: canary.metadata.name! },
          annotations: { [originalSpecAnnotation]: adoption.originalSpec },
        }
      : {
          ...meta,
          labels: { ...(apexMeta?.labels ?? {}), [canaryLabel]: canary.metadata.name! },
          ...(apexMeta?.annotations ? { annotations: apexMeta.annotations } : {}),
          ownerReferences: [ownerReference(canary)],
        },
    spec: virtualServiceSpec(canary, routes),
  };
}

/** The DestinationRules `<apex>-primary` and `<apex>-canary`, with `spec.service.trafficPolicy`. */
export function destinationRules(canary: Canary): IstioObject[] {
  const names = namesOf(canary);
  const trafficPolicy = canary.spec.service.trafficPolicy;
  return [names.apexPrimary, names.apexCanary].map((host) => ({
    apiVersion: istioApiVersion,
    kind: 'DestinationRule',
    metadata: {
      name: host,
      namespace: canary.metadata.namespace!,
      labels: { [canaryLabel]: canary.metadata.name! },
      ownerReferences: [ownerReference(canary)],
    },
    spec: { host, ...(trafficPolicy ? { trafficPolicy } : {}) },
  }));
}

interface RouteDestination {
  destination?: { host?: string };
  weight?: number;
}
interface ReadRoute {
  name?: string;
  route?: RouteDestination[];
  mirror?: { host?: string };
}

/** The split a VirtualService holds, or undefined when it has no route to the canary. */
export function routesOf(
  canary: Canary,
  vs: { spec?: { http?: ReadRoute[]; tcp?: ReadRoute[] } } | undefined,
): Routes | undefined {
  const canaryHost = namesOf(canary).apexCanary;
  const list = (isTcp(canary) ? vs?.spec?.tcp : vs?.spec?.http) ?? [];
  const toCanary = (r: ReadRoute) => r.route?.some((d) => d.destination?.host === canaryHost);
  const weighted = list.find((r) => r.name === routeNames.weighted) ?? list.filter(toCanary).at(-1);
  if (!weighted) return undefined;
  const canaryWeight = weighted.route?.find((d) => d.destination?.host === canaryHost)?.weight ?? 0;
  return {
    canaryWeight,
    matchToCanary: list.some((r) => r.name === routeNames.abTest),
    mirror: weighted.mirror?.host === canaryHost,
  };
}
