import type * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import { CopyRouter, type NamespacedReader } from './copy-router.js';
import { objectReader } from './object-reader.js';
import type { Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';

export const apisixRouteApiVersion = 'apisix.apache.org/v2';

/**
 * The priority of the canary route's entries, as in Flagger: above the user's own
 * route, which matches the same requests, so APISIX picks the canary route.
 * A/B entries sit one above, so matching requests never reach the weights.
 */
export const apisixPriority = { weighted: 10000, matched: 10001 } as const;

/** One `match.exprs` item of an ApisixRoute http entry. */
export interface ApisixExpr {
  subject: { scope: 'Header' | 'Query' | 'Cookie' | 'Path' | 'Variable'; name?: string };
  op: string;
  value?: string;
  set?: string[];
}

/** One backend of an ApisixRoute http entry. */
export interface ApisixBackend {
  serviceName: string;
  servicePort: number | string;
  resolveGranularity?: string;
  weight?: number;
  subset?: string;
}

/** One `spec.http` entry of an ApisixRoute (the fields Weir reads; the rest is copied as is). */
export interface ApisixHttp {
  name: string;
  priority?: number;
  match: { paths: string[]; exprs?: ApisixExpr[]; [field: string]: unknown };
  backends?: ApisixBackend[];
  [field: string]: unknown;
}

/** An ApisixRoute (apisix.apache.org/v2), as read from the API server. */
export interface ApisixRouteObject {
  apiVersion?: string;
  kind?: string;
  metadata?: k8s.V1ObjectMeta;
  spec?: { ingressClassName?: string; http?: ApisixHttp[]; stream?: unknown[] };
}

/** The ApisixRoute Weir owns next to the user's: `<route>-<apex>-canary`, Flagger's name. */
export function apisixCanaryRouteName(canary: Canary): string {
  return `${canary.spec.routeRef!.name}-${namesOf(canary).apex}-canary`;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `analysis.match` as APISIX expressions: one list per entry (APISIX requires
 * every expression of a list; separate entries become separate http entries, any
 * of which routes to the canary). `exact` is Equal; prefix, suffix and regex are
 * anchored RegexMatch expressions, since APISIX searches a pattern anywhere in the
 * value and Envoy-based routers match the whole value. A `cookie` header is a
 * header like any other, as in Flagger's Istio-style regexes on it.
 */
export function apisixMatch(analysis: CanaryAnalysis): ApisixExpr[][] | { error: string } {
  const lists: ApisixExpr[][] = [];
  for (const [i, m] of (analysis.match ?? []).entries()) {
    const at = `analysis.match[${i}]`;
    if (m.sourceLabels)
      return {
        error: `${at}.sourceLabels selects callers by workload labels, which only Istio can do; APISIX matches headers and query parameters`,
      };
    const exprs: ApisixExpr[] = [];
    const add = (
      scope: 'Header' | 'Query',
      entries: [string, Record<string, string | undefined>][],
    ) => {
      for (const [name, v] of entries) {
        const subject = { scope, name };
        if (v.exact !== undefined) exprs.push({ subject, op: 'Equal', value: v.exact });
        else if (v.prefix !== undefined)
          exprs.push({ subject, op: 'RegexMatch', value: `^${escape(v.prefix)}` });
        else if (v.suffix !== undefined)
          exprs.push({ subject, op: 'RegexMatch', value: `${escape(v.suffix)}$` });
        else if (v.regex !== undefined)
          exprs.push({ subject, op: 'RegexMatch', value: `^(?:${v.regex})$` });
      }
    };
    add('Header', Object.entries(m.headers ?? {}));
    add('Query', Object.entries(m.queryParams ?? {}));
    if (exprs.length === 0)
      return {
        error: `${at} matches nothing: give it headers or queryParams (exact, prefix, suffix or regex)`,
      };
    lists.push(exprs);
  }
  return lists;
}

/**
 * The user's http entries that route to the apex Service, which the canary route
 * splits. An entry that sends the apex's traffic together with other backends
 * cannot be split without changing what those get: it is an error.
 */
export function apexEntries(
  canary: Canary,
  source: ApisixRouteObject,
): ApisixHttp[] | { error: string } {
  const { apex } = namesOf(canary);
  const entries = (source.spec?.http ?? []).filter((h) =>
    (h.backends ?? []).some((b) => b.serviceName === apex),
  );
  const shared = entries.find((h) => h.backends!.length > 1);
  if (shared)
    return {
      error: `http entry ${shared.name} sends traffic to Service ${apex} and to other backends: give Service ${apex} an http entry of its own`,
    };
  if (entries.length === 0)
    return {
      error: `no http entry has Service ${apex} as its backend: point the entry to release at Service ${apex} (port ${canary.spec.service.port})`,
    };
  return entries;
}

/** Annotations of the user's route worth keeping: the legacy ingress class. */
function inherited(annotations: Record<string, string> = {}): Record<string, string> {
  const cls = annotations['kubernetes.io/ingress.class'];
  return cls === undefined ? {} : { 'kubernetes.io/ingress.class': cls };
}

/**
 * `<route>-<apex>-canary`: the user's http entries that reach the apex, with
 * Flagger's priority and two backends, `<apex>-primary` and `<apex>-canary`,
 * weighted for the split. While requests are matched to the canary (A/B), each
 * `analysis.match` entry adds a copy of every such entry, one priority higher,
 * with its expressions added and the canary as its only backend; the weights then
 * send everything else to the primary.
 */
export function canaryApisixRoute(
  canary: Canary,
  source: ApisixRouteObject,
  routes: Routes,
): ApisixRouteObject {
  const { apexPrimary, apexCanary } = namesOf(canary);
  const entries = apexEntries(canary, source);
  if ('error' in entries) throw new Error(`apisix router: ${entries.error}`);
  const canaryWeight = routes.matchToCanary ? 0 : routes.canaryWeight;
  // As in Flagger: the canary gets the port, granularity and subset of the user's backend.
  const toCanary = (b: ApisixBackend): ApisixBackend => ({
    serviceName: apexCanary,
    servicePort: b.servicePort,
    ...(b.resolveGranularity !== undefined ? { resolveGranularity: b.resolveGranularity } : {}),
    ...(b.subset !== undefined ? { subset: b.subset } : {}),
  });
  const http: ApisixHttp[] = [];
  for (const entry of entries) {
    const backend = entry.backends![0]!;
    if (routes.matchToCanary) {
      const match = apisixMatch(canary.spec.analysis);
      if ('error' in match) throw new Error(`apisix router: ${match.error}`);
      match.forEach((exprs, i) =>
        http.push({
          ...entry,
          name: `${entry.name}-ab-${i}`,
          priority: apisixPriority.matched,
          match: { ...entry.match, exprs: [...(entry.match.exprs ?? []), ...exprs] },
          backends: [toCanary(backend)],
        }),
      );
    }
    http.push({
      ...entry,
      priority: apisixPriority.weighted,
      backends: [
        { ...backend, serviceName: apexPrimary, weight: 100 - canaryWeight },
        { ...toCanary(backend), weight: canaryWeight },
      ],
    });
  }
  const annotations = inherited(source.metadata?.annotations);
  return {
    apiVersion: apisixRouteApiVersion,
    kind: 'ApisixRoute',
    metadata: {
      name: apisixCanaryRouteName(canary),
      namespace: canary.metadata.namespace!,
      // Not the user's labels: GitOps tools track objects by label and would prune the copy.
      labels: { [canaryLabel]: canary.metadata.name! },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [ownerReference(canary)],
    },
    spec: {
      ...(source.spec?.ingressClassName ? { ingressClassName: source.spec.ingressClassName } : {}),
      http,
    },
  };
}

/** The split a canary route holds, or undefined when it has no weighted entry. */
export function routesOfApisixRoute(
  canary: Canary,
  route: ApisixRouteObject | undefined,
): Routes | undefined {
  const { apexPrimary, apexCanary } = namesOf(canary);
  const http = route?.spec?.http ?? [];
  const weighted = http.find((h) => (h.backends ?? []).some((b) => b.serviceName === apexPrimary));
  if (!weighted) return undefined;
  const weight = (name: string) =>
    weighted
      .backends!.filter((b) => b.serviceName === name)
      .reduce((s, b) => s + (b.weight ?? 0), 0);
  const total = weight(apexPrimary) + weight(apexCanary);
  return {
    canaryWeight: total > 0 ? Math.round((weight(apexCanary) * 100) / total) : 0,
    matchToCanary: http.some(
      (h) =>
        (h.backends ?? []).length > 0 && h.backends!.every((b) => b.serviceName === apexCanary),
    ),
    mirror: false,
  };
}

const onYourRoute = (what: string) =>
  `set ${what} on your ApisixRoute (spec.routeRef): Weir copies its http entries for the apex into the canary route, and never changes yours`;

/** The canary route copies the user's entries: every routing setting comes from them. */
export const apisixServiceFields: ServiceFieldSupport = {
  honoured: [],
  instead: {
    hosts: onYourRoute('match.hosts'),
    match: onYourRoute('match.paths, match.methods and match.exprs'),
    rewrite: onYourRoute('a proxy-rewrite plugin'),
    retries: onYourRoute('retries in an ApisixUpstream or a plugin'),
    timeout: onYourRoute('timeout (connect, send, read)'),
    headers: onYourRoute('a proxy-rewrite or response-rewrite plugin'),
    corsPolicy: onYourRoute('a cors plugin'),
    routeRef:
      'it names a Gateway API HTTPRoute, which only the gatewayapi provider splits; name your ApisixRoute in spec.routeRef (beside spec.service) and remove it',
  },
};

/** Why the apisix provider cannot route a Canary, or undefined when it can. */
export function apisixUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const fields = serviceFieldsUnsupported('apisix', canary, apisixServiceFields);
  if (fields) return fields;
  const ref = canary.spec.routeRef;
  if (!ref)
    return `the apisix provider needs spec.routeRef: the ApisixRoute (apisix.apache.org/v2) whose http backend is Service ${namesOf(canary).apex}, which Weir copies as <name>-${namesOf(canary).apex}-canary`;
  if (ref.apiVersion !== apisixRouteApiVersion)
    return `spec.routeRef.apiVersion ${ref.apiVersion} is not served: the apisix provider reads ${apisixRouteApiVersion} ApisixRoutes`;
  const analysis = canary.spec.analysis;
  if (analysis.mirror)
    return "the apisix provider cannot mirror traffic to the canary: APISIX's proxy-mirror plugin mirrors to a host, not to a Service's endpoints; remove analysis.mirror";
  if (analysis.sessionAffinity)
    return 'the apisix provider cannot keep users on the canary (analysis.sessionAffinity): its weighted backends do not set a cookie on canary answers; remove sessionAffinity, or opt users in with an analysis.match header';
  if (strategy === 'abTesting') {
    const match = apisixMatch(analysis);
    if ('error' in match) return match.error;
  }
  return undefined;
}

/** Reads an ApisixRoute; undefined when it does not exist. */
export type ApisixRouteReader = NamespacedReader<ApisixRouteObject>;

/** An {@link ApisixRouteReader} on the API server. */
export function apisixRouteReader(kubeConfig: k8s.KubeConfig): ApisixRouteReader {
  return objectReader<ApisixRouteObject>(kubeConfig, apisixRouteApiVersion, 'ApisixRoute');
}

/**
 * Apache APISIX: an ApisixRoute `<route>-<apex>-canary` next to the user's
 * (`spec.routeRef`), which Weir reads but never changes. Weighted canaries,
 * blue/green and A/B by headers and query parameters; no mirroring, no session
 * affinity.
 */
export class ApisixRouter extends CopyRouter<ApisixRouteObject> {
  constructor(kube: KubeAccess, read: ApisixRouteReader) {
    super(kube, read, {
      name: 'apisix',
      kind: 'ApisixRoute',
      ref: 'routeRef',
      reasons: { notFound: 'RouteNotFound', backendNotFound: 'RouteBackendNotFound' },
      copyName: apisixCanaryRouteName,
      uncopyable(canary, source, at) {
        const entries = apexEntries(canary, source);
        return 'error' in entries ? `${at}: ${entries.error}` : undefined;
      },
      build: (canary, source, routes) =>
        canaryApisixRoute(canary, source, routes) as k8s.KubernetesObject,
      routesOf: routesOfApisixRoute,
      unsupported: apisixUnsupported,
    });
  }
}
