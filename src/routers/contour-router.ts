import type * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import { OwnedObjectRouter } from './owned-object-router.js';
import type { Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';

export const httpProxyApiVersion = 'projectcontour.io/v1';

type ValueMatch = NonNullable<NonNullable<CanaryAnalysis['match']>[number]['headers']>[string];
type Condition = Record<string, unknown>;

/** retryOn values Contour's RetryPolicy accepts (its CRD enum); numbers become retriableStatusCodes. */
export const contourRetryOn = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A Contour header condition for a Weir value match. Envoy matches header
 * regexes against the whole value, so prefix and suffix become anchored-by-
 * construction regexes rather than Contour's looser `contains`.
 */
function headerCondition(name: string, m: ValueMatch): Condition {
  if (m.exact !== undefined) return { header: { name, exact: m.exact } };
  if (m.prefix !== undefined) return { header: { name, regex: `${escapeRegex(m.prefix)}.*` } };
  if (m.suffix !== undefined) return { header: { name, regex: `.*${escapeRegex(m.suffix)}` } };
  return { header: { name, regex: m.regex ?? '.*' } };
}

/** Contour query parameter conditions have the same four matches as Weir. */
function queryCondition(name: string, m: ValueMatch): Condition {
  const [kind, value] = Object.entries(m).find(([, v]) => v !== undefined) ?? ['regex', '.*'];
  return { queryParameter: { name, [kind]: value } };
}

/** Path conditions from spec.service.match (Istio-style `uri`), or `/`. */
function pathConditions(canary: Canary): Condition[] {
  const matches = (canary.spec.service.match ?? []) as { uri?: Record<string, string> }[];
  const paths = matches.flatMap((m): Condition[] => {
    const uri = m.uri ?? {};
    if (uri.prefix !== undefined) return [{ prefix: uri.prefix }];
    if (uri.exact !== undefined) return [{ exact: uri.exact }];
    if (uri.regex !== undefined) return [{ regex: uri.regex }];
    return [];
  });
  return paths.length > 0 ? paths : [{ prefix: '/' }];
}

/** Timeout and retry policies for every route, from spec.service. */
function policies(canary: Canary): Record<string, unknown> {
  const s = canary.spec.service;
  const out: Record<string, unknown> = {};
  if (s.timeout) out.timeoutPolicy = { response: s.timeout };
  if (s.retries) {
    const on = (s.retries.retryOn ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    const codes = on.filter((v) => /^\d+$/.test(v)).map(Number);
    const kinds = on.filter((v) => !/^\d+$/.test(v));
    if (codes.length > 0 && !kinds.includes('retriable-status-codes'))
      kinds.push('retriable-status-codes');
    out.retryPolicy = {
      // Contour reads 0 as "Envoy's default of 1"; -1 is how it says none.
      ...(s.retries.attempts !== undefined
        ? { count: s.retries.attempts === 0 ? -1 : s.retries.attempts }
        : {}),
      ...(s.retries.perTryTimeout ? { perTryTimeout: s.retries.perTryTimeout } : {}),
      ...(kinds.length > 0 ? { retryOn: kinds } : {}),
      ...(codes.length > 0 ? { retriableStatusCodes: codes } : {}),
    };
  }
  return out;
}

/**
 * The HTTPProxy `<apex>` for a split, meant to be included by the user's root
 * HTTPProxy (it has no virtualhost of its own). For each path condition: the
 * A/B routes while requests are matched to the canary (one per
 * `analysis.match` entry, its conditions ANDed, the entries ORed as separate
 * routes), then the weighted route. Each Service carries the
 * `l5d-dst-override` header, as Flagger sets it, so Contour in front of a
 * Linkerd mesh reaches the Service Contour chose. While the canary is mirrored
 * (Weir mirrors only at weight 0) it is the route's one mirror Service, with
 * `analysis.mirrorWeight` as the mirrored percentage.
 */
export function httpProxy(canary: Canary, routes: Routes): Record<string, unknown> {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const namespace = canary.metadata.namespace!;
  const service = (name: string, extra: Record<string, unknown>) => ({
    name,
    port: s.port,
    ...extra,
    requestHeadersPolicy: {
      set: [
        { name: 'l5d-dst-override', value: `${name}.${namespace}.svc.cluster.local:${s.port}` },
      ],
    },
  });
  const services = (canaryWeight: number, mirror: boolean) =>
    mirror && canaryWeight === 0
      ? [
          service(names.apexPrimary, { weight: 100 }),
          service(names.apexCanary, {
            mirror: true,
            weight: canary.spec.analysis.mirrorWeight ?? 100,
          }),
        ]
      : [
          service(names.apexPrimary, { weight: 100 - canaryWeight }),
          service(names.apexCanary, { weight: canaryWeight }),
        ];
  const extra = policies(canary);
  const proxyRoutes: Record<string, unknown>[] = [];
  for (const path of pathConditions(canary)) {
    if (routes.matchToCanary) {
      for (const m of canary.spec.analysis.match ?? []) {
        const conditions = [
          path,
          ...Object.entries(m.headers ?? {}).map(([n, v]) => headerCondition(n, v)),
          ...Object.entries(m.queryParams ?? {}).map(([n, v]) => queryCondition(n, v)),
        ];
        proxyRoutes.push({ conditions, services: services(100, false), ...extra });
      }
    }
    proxyRoutes.push({
      conditions: [path],
      services: services(routes.canaryWeight, routes.mirror === true),
      ...extra,
    });
  }
  return {
    apiVersion: httpProxyApiVersion,
    kind: 'HTTPProxy',
    metadata: {
      name: names.apex,
      namespace,
      // spec.service.apex metadata (an ingress class annotation, say) goes on the HTTPProxy, as in Flagger.
      labels: { ...(s.apex?.labels ?? {}), [canaryLabel]: canary.metadata.name },
      ...(s.apex?.annotations ? { annotations: s.apex.annotations } : {}),
      ownerReferences: [ownerReference(canary)],
    },
    spec: { routes: proxyRoutes },
  };
}

/**
 * The HTTPProxy `<apex>` is included by the user's root HTTPProxy: it carries
 * path conditions, timeouts and retries; the virtual host (hostnames, CORS) is
 * the root proxy's.
 */
export const contourServiceFields: ServiceFieldSupport = {
  honoured: ['match', 'retries', 'timeout'],
  instead: {
    hosts:
      'the hostname is the virtualhost.fqdn of your root HTTPProxy, which includes HTTPProxy <apex>; set it there and remove it',
    corsPolicy:
      'CORS is configured on the virtualhost of your root HTTPProxy (virtualhost.corsPolicy); set it there and remove it',
    rewrite:
      'Weir does not write a pathRewritePolicy on its HTTPProxy; rewrite in the application or in front of Contour, and remove it',
    headers:
      "Weir's HTTPProxy sets only the l5d-dst-override header; set request and response headers in Contour's configuration (policy.request-headers, policy.response-headers) and remove it",
  },
};

/** Why an HTTPProxy cannot run this Canary as declared, or undefined. */
export function contourUnsupported(canary: Canary, _strategy: Strategy): string | undefined {
  const { analysis, service } = canary.spec;
  const fields = serviceFieldsUnsupported('contour', canary, contourServiceFields);
  if (fields) return fields;
  for (const [i, m] of (analysis.match ?? []).entries()) {
    if (m.sourceLabels)
      return `the contour provider cannot match analysis.match[${i}].sourceLabels (source workloads are an Istio feature): match on headers or queryParams`;
    if (Object.keys(m.headers ?? {}).length + Object.keys(m.queryParams ?? {}).length === 0)
      return `analysis.match[${i}] has no headers or queryParams: it would send every request to the canary`;
  }
  for (const [i, m] of ((service.match ?? []) as Record<string, unknown>[]).entries()) {
    const other = Object.keys(m).filter((k) => k !== 'uri');
    const uri = (m.uri ?? {}) as Record<string, unknown>;
    const kinds = Object.keys(uri).filter((k) => ['prefix', 'exact', 'regex'].includes(k));
    if (other.length > 0 || kinds.length !== 1 || Object.keys(uri).length !== 1)
      return `the contour provider routes spec.service.match[${i}] by path only: give it exactly one of uri.prefix, uri.exact or uri.regex${other.length ? ` and remove ${other.join(', ')}` : ''}`;
  }
  const retryOn = (service.retries?.retryOn ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v && !/^\d+$/.test(v) && !(contourRetryOn as readonly string[]).includes(v));
  if (retryOn.length > 0)
    return `the contour provider cannot retry on ${retryOn.join(', ')} (spec.service.retries.retryOn): use status codes or ${contourRetryOn.join(', ')}`;
  if (analysis.mirror && analysis.mirrorWeight === 0)
    return 'analysis.mirrorWeight 0 cannot be expressed in Contour (a mirror weight of 0 mirrors everything): set 1-100 or remove analysis.mirror';
  if (analysis.sessionAffinity)
    return "the contour provider cannot pin sessions to the canary: Contour's Cookie load balancing hashes to one pod under its own cookie name and cannot route a named cookie to a Service; remove analysis.sessionAffinity";
  return undefined;
}

/** The parts of an HTTPProxy read back. */
export interface HttpProxyObject {
  spec?: {
    routes?: {
      conditions?: Condition[];
      services?: { name?: string; weight?: number; mirror?: boolean }[];
    }[];
  };
}

/** The split an HTTPProxy holds, or undefined when it has no weighted route. */
export function routesOfHttpProxy(
  canary: Canary,
  object: HttpProxyObject | undefined,
): Routes | undefined {
  const names = namesOf(canary);
  const routes = object?.spec?.routes ?? [];
  const matched = (r: (typeof routes)[number]) =>
    (r.conditions ?? []).some((c) => c.header !== undefined || c.queryParameter !== undefined);
  const weighted = routes.find((r) => !matched(r));
  if (!weighted) return undefined;
  const served = (weighted.services ?? []).filter((x) => !x.mirror);
  const weight = (name: string) => served.find((x) => x.name === name)?.weight ?? 0;
  const total = weight(names.apexPrimary) + weight(names.apexCanary);
  return {
    canaryWeight: total > 0 ? Math.round((weight(names.apexCanary) * 100) / total) : 0,
    matchToCanary: routes.some(matched),
    mirror: (weighted.services ?? []).some((x) => x.mirror && x.name === names.apexCanary),
  };
}

/** Routes traffic with a Contour HTTPProxy (projectcontour.io/v1) included by the user's root proxy. */
export class ContourRouter extends OwnedObjectRouter<HttpProxyObject> {
  constructor(kube: KubeAccess, kubeConfig: k8s.KubeConfig) {
    super(kube, kubeConfig, {
      name: 'contour',
      apiVersion: httpProxyApiVersion,
      kind: 'HTTPProxy',
      build: httpProxy,
      routesOf: routesOfHttpProxy,
      unsupported: contourUnsupported,
    });
  }
}
