import type * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { namesOf } from '../workloads/generated.js';
import {
  cloneIngress,
  IngressCloneRouter,
  ingressCloneUnsupported,
  type IngressClone,
  type IngressReader,
} from './ingress-clone-router.js';
import type { Routes } from './router.js';
import type { ServiceFieldSupport } from './service-fields.js';

const prefix = 'nginx.ingress.kubernetes.io';

/** The ingress-nginx canary annotations Weir sets on `<ingress>-canary`. */
export const nginxAnnotations = {
  canary: `${prefix}/canary`,
  weight: `${prefix}/canary-weight`,
  header: `${prefix}/canary-by-header`,
  headerValue: `${prefix}/canary-by-header-value`,
  headerPattern: `${prefix}/canary-by-header-pattern`,
  cookie: `${prefix}/canary-by-cookie`,
} as const;

/** What `analysis.match` becomes on an NGINX canary Ingress: at most one header and one cookie. */
export interface NginxMatch {
  header?: { name: string; value: string } | { name: string; pattern: string };
  /** Requests carrying this cookie with the value `always` go to the canary. */
  cookie?: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Maps `analysis.match` onto ingress-nginx's canary-by-header and canary-by-cookie,
 * or says why it cannot. NGINX tries the header, then the cookie, then the weight,
 * so separate match entries (any of which routes to the canary) map cleanly; what
 * an entry requires together, several headers, or query parameters do not. As in
 * Flagger, a `cookie` header's `exact` value names the cookie. NGINX searches a
 * pattern anywhere in the value, so a `regex` is anchored to match the whole
 * value, as Envoy-based routers do.
 */
export function nginxMatch(analysis: CanaryAnalysis): NginxMatch | { error: string } {
  const result: NginxMatch = {};
  for (const [i, m] of (analysis.match ?? []).entries()) {
    const at = `analysis.match[${i}]`;
    if (m.queryParams && Object.keys(m.queryParams).length > 0)
      return { error: `${at}.queryParams: an NGINX canary Ingress cannot match query parameters` };
    if (m.sourceLabels)
      return {
        error: `${at}.sourceLabels selects callers by workload labels, which only Istio can do`,
      };
    const headers = Object.entries(m.headers ?? {});
    if (headers.length === 0)
      return { error: `${at} has no header: the nginx provider matches one header or one cookie` };
    if (headers.length > 1)
      return {
        error: `${at} requires ${headers.map(([n]) => n).join(' and ')} together; an NGINX canary matches one header or one cookie per entry: split them into separate entries or keep one`,
      };
    const [name, v] = headers[0]!;
    if (name.toLowerCase() === 'cookie') {
      if (v.exact === undefined)
        return {
          error: `${at}.headers.${name}: for NGINX, exact names the cookie (requests where it is "always" reach the canary); prefix, suffix and regex cannot be expressed`,
        };
      if (result.cookie !== undefined)
        return {
          error: `${at}: NGINX routes by one cookie only (canary-by-cookie), and ${result.cookie} is already matched`,
        };
      result.cookie = v.exact;
      continue;
    }
    if (result.header)
      return {
        error: `${at}: NGINX routes by one header only (canary-by-header), and ${result.header.name} is already matched`,
      };
    result.header =
      v.exact !== undefined
        ? { name, value: v.exact }
        : {
            name,
            pattern:
              v.prefix !== undefined
                ? `^${escape(v.prefix)}`
                : v.suffix !== undefined
                  ? `${escape(v.suffix)}$`
                  : `^(?:${v.regex ?? '.*'})$`,
          };
  }
  return result;
}

/** Annotations of the user's Ingress worth keeping on the clone: the legacy class and NGINX settings that are not canary ones. */
function inherited(annotations: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).filter(
      ([k]) =>
        k === 'kubernetes.io/ingress.class' ||
        (k.startsWith(`${prefix}/`) && !k.startsWith(nginxAnnotations.canary)),
    ),
  );
}

/** Rewrites a backend that reaches the apex Service to the canary Service; undefined for any other. */
function toCanary(
  backend: k8s.V1IngressBackend | undefined,
  apex: string,
  apexCanary: string,
): k8s.V1IngressBackend | undefined {
  if (backend?.service?.name !== apex) return undefined;
  return { service: { ...backend.service, name: apexCanary } };
}

/** The spec of `<ingress>-canary`: the user's rules and default backend, only where they reach the apex, pointed at `<apex>-canary`. */
export function canaryIngressSpec(canary: Canary, source: k8s.V1Ingress): k8s.V1IngressSpec {
  const { apex, apexCanary } = namesOf(canary);
  const rules = (source.spec?.rules ?? []).flatMap((rule) => {
    const paths = (rule.http?.paths ?? []).flatMap((p) => {
      const backend = toCanary(p.backend, apex, apexCanary);
      return backend ? [{ ...p, backend }] : [];
    });
    return paths.length > 0 ? [{ ...rule, http: { paths } }] : [];
  });
  const defaultBackend = toCanary(source.spec?.defaultBackend, apex, apexCanary);
  return {
    ...(source.spec?.ingressClassName ? { ingressClassName: source.spec.ingressClassName } : {}),
    ...(defaultBackend ? { defaultBackend } : {}),
    ...(rules.length > 0 ? { rules } : {}),
    ...(source.spec?.tls?.length ? { tls: source.spec.tls } : {}),
  };
}

/**
 * The canary annotations for a split. Not matching (weighted canary, blue/green)
 * sets only the weight; A/B sets the header or cookie and weight 0, so requests
 * that do not match stay on the primary.
 */
function nginxCanaryAnnotations(
  canary: Canary,
  source: k8s.V1Ingress,
  routes: Routes,
): Record<string, string> {
  const annotations: Record<string, string> = {
    ...inherited(source.metadata?.annotations),
    [nginxAnnotations.canary]: 'true',
    [nginxAnnotations.weight]: String(routes.matchToCanary ? 0 : routes.canaryWeight),
  };
  if (routes.matchToCanary) {
    const match = nginxMatch(canary.spec.analysis);
    if ('error' in match) throw new Error(`nginx router: ${match.error}`);
    if (match.header) {
      annotations[nginxAnnotations.header] = match.header.name;
      if ('value' in match.header) annotations[nginxAnnotations.headerValue] = match.header.value;
      else annotations[nginxAnnotations.headerPattern] = match.header.pattern;
    }
    if (match.cookie !== undefined) annotations[nginxAnnotations.cookie] = match.cookie;
  }
  return annotations;
}

/** The split an NGINX canary Ingress's annotations hold. */
function nginxRoutesOf(_canary: Canary, a: Record<string, string>): Routes {
  return {
    canaryWeight: Number(a[nginxAnnotations.weight] ?? 0),
    matchToCanary: nginxAnnotations.header in a || nginxAnnotations.cookie in a,
    mirror: false,
  };
}

/**
 * `<ingress>-canary`: a clone of the user's Ingress whose apex backends point at
 * `<apex>-canary`, with the canary annotations for the split.
 */
export function canaryIngress(
  canary: Canary,
  source: k8s.V1Ingress,
  routes: Routes,
): k8s.V1Ingress {
  return cloneIngress(nginxClone, canary, source, routes);
}

/** Advice for a setting ingress-nginx takes from the user's Ingress, which the canary Ingress follows. */
const onYourIngress = (what: string) =>
  `set ${what} on your Ingress (spec.ingressRef): NGINX applies the main Ingress's settings to canary traffic too, and Weir does not change it`;

/**
 * The canary Ingress carries only the canary annotations and the user's
 * backends: every other setting comes from the user's Ingress.
 */
export const nginxServiceFields: ServiceFieldSupport = {
  honoured: [],
  instead: {
    hosts: onYourIngress('the hosts'),
    match: onYourIngress('the paths'),
    rewrite: onYourIngress('nginx.ingress.kubernetes.io/rewrite-target'),
    retries: onYourIngress('the nginx.ingress.kubernetes.io/proxy-next-upstream annotations'),
    timeout: onYourIngress('nginx.ingress.kubernetes.io/proxy-read-timeout'),
    headers: onYourIngress('header annotations (nginx.ingress.kubernetes.io/custom-headers)'),
    corsPolicy: onYourIngress('nginx.ingress.kubernetes.io/enable-cors and the cors-* annotations'),
    mirror: onYourIngress('nginx.ingress.kubernetes.io/mirror-target'),
  },
};

/** Why the nginx provider cannot route a Canary, or undefined when it can. */
export function nginxUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  return ingressCloneUnsupported('nginx', canary, strategy, {
    fields: nginxServiceFields,
    mirror:
      'the nginx provider cannot mirror traffic to the canary: an NGINX canary Ingress ignores mirror annotations and Weir does not change your Ingress; remove analysis.mirror',
    sessionAffinity:
      'the nginx provider cannot keep users on the canary (analysis.sessionAffinity): NGINX routes by cookie only when the client already sends it with the value "always" and cannot set it on canary answers; remove sessionAffinity, or opt users in with an analysis.match cookie',
    match(analysis) {
      const match = nginxMatch(analysis);
      return 'error' in match ? match.error : undefined;
    },
  });
}

const nginxClone: IngressClone = {
  name: 'nginx',
  unsupported: nginxUnsupported,
  spec: canaryIngressSpec,
  annotations: nginxCanaryAnnotations,
  routesOf: nginxRoutesOf,
};

/**
 * ingress-nginx: a canary Ingress `<ingress>-canary` next to the user's Ingress
 * (`spec.ingressRef`), which Weir reads but never changes. Weighted canaries,
 * blue/green and A/B by one header and/or one cookie; no mirroring, no session
 * affinity.
 */
export class NginxRouter extends IngressCloneRouter {
  constructor(kube: KubeAccess, read: IngressReader) {
    super(kube, read, nginxClone);
  }
}
