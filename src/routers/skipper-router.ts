import type * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
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

const prefix = 'zalando.org';

/** The Skipper annotations Weir writes on `<ingress>-canary`. */
export const skipperAnnotations = {
  /** JSON map of Service name to weight, for the backends of one path. */
  backendWeights: `${prefix}/backend-weights`,
  /** Predicates (eskip) every route of the Ingress must also match. */
  predicate: `${prefix}/skipper-predicate`,
  /** Extra eskip routes: the user's, never copied to the clone. */
  routes: `${prefix}/skipper-routes`,
} as const;

/**
 * `Weight(100)` lifts the clone's routes above the user's Ingress routes for the
 * same host and path, so the clone takes all of their traffic while it is on;
 * `False()` turns it off, and the user's Ingress serves again. As in Flagger.
 */
export const skipperPredicates = { priority: 'Weight(100)', disabled: 'False()' } as const;

/** An eskip string literal: only `"` and `\` are escaped (skipper's eskip lexer). */
const literal = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;
/** A string matched literally inside an RE2 expression. */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type ValueMatch = NonNullable<NonNullable<CanaryAnalysis['match']>[number]['headers']>[string];

/**
 * The RE2 expression for a value match. Skipper searches an expression anywhere
 * in the value, so `regex` is anchored to match the whole value, as Envoy-based
 * routers do.
 */
function pattern(v: ValueMatch): string {
  if (v.exact !== undefined) return `^${escapeRegex(v.exact)}$`;
  if (v.prefix !== undefined) return `^${escapeRegex(v.prefix)}`;
  if (v.suffix !== undefined) return `${escapeRegex(v.suffix)}$`;
  return `^(?:${v.regex ?? '.*'})$`;
}

/**
 * Maps `analysis.match` onto Skipper predicates, or says why it cannot. A Skipper
 * route has one predicate expression whose conditions must all hold, so one match
 * entry maps (its headers and query parameters, all required), and a second entry
 * (which would also route to the canary) cannot. A `Cookie` header is matched as
 * a header, as by the Istio and Gateway API providers.
 */
export function skipperMatch(
  analysis: CanaryAnalysis,
): { predicates: string[] } | { error: string } {
  const entries = analysis.match ?? [];
  if (entries.length > 1)
    return {
      error: `analysis.match[1]: a Skipper route has one predicate expression, in which every condition must hold, so it cannot route either of two match entries to the canary; merge them into analysis.match[0] (all must match) or keep one`,
    };
  const m = entries[0];
  if (!m) return { predicates: [] };
  const at = 'analysis.match[0]';
  if (m.sourceLabels)
    return {
      error: `${at}.sourceLabels selects callers by workload labels, which only Istio can do`,
    };
  const predicates = [
    ...Object.entries(m.headers ?? {}).map(([name, v]) =>
      v.exact !== undefined
        ? `Header(${literal(name)}, ${literal(v.exact)})`
        : `HeaderRegexp(${literal(name)}, ${literal(pattern(v))})`,
    ),
    ...Object.entries(m.queryParams ?? {}).map(
      ([name, v]) => `QueryParam(${literal(name)}, ${literal(pattern(v))})`,
    ),
  ];
  if (predicates.length === 0)
    return {
      error: `${at} has no header or query parameter: the skipper provider matches by those`,
    };
  return { predicates };
}

/** Annotations of the user's Ingress worth keeping on the clone: the legacy class and Skipper settings that are not Weir's. */
function inherited(annotations: Record<string, string> = {}): Record<string, string> {
  const weirs: string[] = Object.values(skipperAnnotations);
  return Object.fromEntries(
    Object.entries(annotations).filter(
      ([k]) =>
        k === 'kubernetes.io/ingress.class' || (k.startsWith(`${prefix}/`) && !weirs.includes(k)),
    ),
  );
}

/**
 * The spec of `<ingress>-canary`: each path of the user's Ingress that reaches
 * the apex becomes two paths, one to `<apex>-primary` and one to `<apex>-canary`,
 * between which `backend-weights` splits. A default backend cannot be split (it
 * has one Service), so it is not copied.
 */
export function skipperIngressSpec(canary: Canary, source: k8s.V1Ingress): k8s.V1IngressSpec {
  const { apex, apexPrimary, apexCanary } = namesOf(canary);
  const rules = (source.spec?.rules ?? []).flatMap((rule) => {
    const paths = (rule.http?.paths ?? []).flatMap((p) => {
      const service = p.backend?.service;
      if (service?.name !== apex) return [];
      return [apexPrimary, apexCanary].map((name) => ({
        ...p,
        backend: { service: { ...service, name } },
      }));
    });
    return paths.length > 0 ? [{ ...rule, http: { paths } }] : [];
  });
  return {
    ...(source.spec?.ingressClassName ? { ingressClassName: source.spec.ingressClassName } : {}),
    ...(rules.length > 0 ? { rules } : {}),
    ...(source.spec?.tls?.length ? { tls: source.spec.tls } : {}),
  };
}

/**
 * The Skipper annotations for a split. With no traffic to the canary the clone is
 * off (`False()`), so the user's Ingress serves everything through the apex. A
 * weighted step (or blue/green) splits every request of the paths by weight. A/B
 * sends only requests matching `analysis.match` through the clone, all of them to
 * the canary; the rest keep using the user's Ingress. The user's own predicate
 * stays, so the clone never takes requests the user's Ingress does not route.
 */
function skipperCanaryAnnotations(
  canary: Canary,
  source: k8s.V1Ingress,
  routes: Routes,
): Record<string, string> {
  const { apexPrimary, apexCanary } = namesOf(canary);
  const own = source.metadata?.annotations?.[skipperAnnotations.predicate]?.trim();
  let canaryWeight = routes.canaryWeight;
  let predicates: string[] = [skipperPredicates.priority];
  if (routes.matchToCanary) {
    const match = skipperMatch(canary.spec.analysis);
    if ('error' in match) throw new Error(`skipper router: ${match.error}`);
    canaryWeight = 100;
    predicates.push(...match.predicates);
  } else if (canaryWeight === 0) {
    predicates = [skipperPredicates.disabled];
  }
  if (own && predicates[0] !== skipperPredicates.disabled) predicates.push(own);
  return {
    ...inherited(source.metadata?.annotations),
    [skipperAnnotations.backendWeights]: JSON.stringify({
      [apexPrimary]: 100 - canaryWeight,
      [apexCanary]: canaryWeight,
    }),
    [skipperAnnotations.predicate]: predicates.join(' && '),
  };
}

/** The split a Skipper canary Ingress's annotations hold, or undefined when they hold none. */
export function skipperRoutesOf(canary: Canary, a: Record<string, string>): Routes | undefined {
  const predicate = a[skipperAnnotations.predicate] ?? '';
  const weights = a[skipperAnnotations.backendWeights];
  if (weights === undefined) return undefined;
  if (predicate.startsWith(skipperPredicates.disabled))
    return { canaryWeight: 0, matchToCanary: false, mirror: false };
  const match = skipperMatch(canary.spec.analysis);
  const matching =
    'predicates' in match &&
    match.predicates.length > 0 &&
    predicate.startsWith([skipperPredicates.priority, ...match.predicates].join(' && '));
  const parsed = JSON.parse(weights) as Record<string, number>;
  return {
    canaryWeight: matching ? 0 : (parsed[namesOf(canary).apexCanary] ?? 0),
    matchToCanary: matching,
    mirror: false,
  };
}

/**
 * `<ingress>-canary`: the user's apex paths, each to `<apex>-primary` and
 * `<apex>-canary`, with the Skipper annotations for the split.
 */
export function skipperIngress(
  canary: Canary,
  source: k8s.V1Ingress,
  routes: Routes,
): k8s.V1Ingress {
  return cloneIngress(skipperClone, canary, source, routes);
}

/** Advice for a setting Skipper takes from the user's Ingress, which the canary Ingress copies. */
const onYourIngress = (what: string) =>
  `set ${what} on your Ingress (spec.ingressRef): Weir copies its zalando.org annotations to the canary Ingress, and does not change it`;

/**
 * The canary Ingress carries the user's paths and Skipper annotations, and Weir's
 * weights and predicate: every other setting comes from the user's Ingress.
 */
export const skipperServiceFields: ServiceFieldSupport = {
  honoured: [],
  instead: {
    hosts: onYourIngress('the hosts'),
    match: onYourIngress('the paths, or a zalando.org/skipper-predicate'),
    rewrite: onYourIngress('a modPath() or setPath() filter in zalando.org/skipper-filter'),
    timeout: onYourIngress('a backendTimeout() filter in zalando.org/skipper-filter'),
    headers: onYourIngress(
      'setRequestHeader() or setResponseHeader() filters in zalando.org/skipper-filter',
    ),
    corsPolicy: onYourIngress('a corsOrigin() filter in zalando.org/skipper-filter'),
  },
};

/** Why the skipper provider cannot route a Canary, or undefined when it can. */
export function skipperUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  return ingressCloneUnsupported('skipper', canary, strategy, {
    fields: skipperServiceFields,
    mirror:
      'the skipper provider cannot mirror traffic to the canary: backend-weights sends each request to one backend, and Flagger does not mirror with Skipper either; remove analysis.mirror',
    sessionAffinity:
      'the skipper provider cannot keep users on the canary (analysis.sessionAffinity): backend-weights picks a backend for every request, and the canary Ingress cannot set a cookie on canary answers only; remove sessionAffinity, or opt users in with an analysis.match header',
    match(analysis) {
      const match = skipperMatch(analysis);
      return 'error' in match ? match.error : undefined;
    },
  });
}

const skipperClone: IngressClone = {
  name: 'skipper',
  unsupported: skipperUnsupported,
  spec: skipperIngressSpec,
  annotations: skipperCanaryAnnotations,
  routesOf: skipperRoutesOf,
};

/**
 * Skipper: a canary Ingress `<ingress>-canary` next to the user's Ingress
 * (`spec.ingressRef`), which Weir reads but never changes. The clone carries
 * the apex paths twice, to the primary and to the canary, and Skipper splits
 * them by `zalando.org/backend-weights`. Weighted canaries, blue/green and A/B
 * by headers and query parameters; no mirroring, no session affinity.
 */
export class SkipperRouter extends IngressCloneRouter {
  constructor(kube: KubeAccess, read: IngressReader) {
    super(kube, read, skipperClone);
  }
}
