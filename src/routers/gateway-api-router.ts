import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { type Strategy } from '../api/strategy.js';
import { durationMs } from '../api/durations.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import {
  gatewayApiServiceFields,
  mergeMatches,
  serviceFilters,
  serviceMatches,
  serviceRouteProblem,
  valueMatch,
  withFilters,
} from './gateway-api-service.js';
import {
  splitPoints,
  userRouteName,
  userRouteRoutes,
  userRouteServiceFields,
  userRouteUnsupported,
  weightPatch,
  type SplitPoint,
  type UserRoute,
} from './gateway-api-user-route.js';
import { gatewayGap, routeFeatures, type GatewayParent } from './gateway-implementations.js';
import type { Router, Routes } from './router.js';
import { serviceFieldsUnsupported } from './service-fields.js';
import { RoutingBlocked } from '../errors.js';

const gatewayGroup = 'gateway.networking.k8s.io';
const httpRoutes = { group: gatewayGroup, version: 'v1', plural: 'httproutes' };

type Rule = Record<string, unknown>;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Gateway API HTTPRoute matches for `analysis.match` (headers and query parameters). */
export function httpRouteMatches(analysis: CanaryAnalysis): Record<string, unknown>[] {
  return (analysis.match ?? []).map((m) => ({
    ...(m.headers ? { headers: Object.entries(m.headers).map(([n, v]) => valueMatch(n, v)) } : {}),
    ...(m.queryParams
      ? { queryParams: Object.entries(m.queryParams).map(([n, v]) => valueMatch(n, v)) }
      : {}),
  }));
}

/** The session-affinity cookies of the release in progress (`analysis.sessionAffinity`). */
export interface AffinityCookies {
  canary: { name: string; value: string };
  primary?: { name: string; value: string };
  maxAge: number;
}

/**
 * The cookies that pin users during this release. The value is derived from the
 * Canary's uid and the revision being released (`status.lastAppliedSpec`), so it
 * is the same after a controller restart, differs from one release to the next
 * (a cookie from an earlier release no longer pins anyone), and needs no status
 * field of its own, unlike Flagger's random value.
 */
export function affinityCookies(canary: Canary): AffinityCookies | undefined {
  const affinity = canary.spec.analysis.sessionAffinity;
  if (!affinity) return undefined;
  const release = `${canary.metadata.uid ?? ''}/${canary.status?.lastAppliedSpec ?? ''}`;
  const value = (role: string) =>
    createHash('sha256').update(`${release}/${role}`).digest('hex').slice(0, 16);
  return {
    canary: { name: affinity.cookieName, value: value('canary') },
    ...(affinity.primaryCookieName
      ? { primary: { name: affinity.primaryCookieName, value: value('primary') } }
      : {}),
    maxAge: affinity.maxAge ?? 86400,
  };
}

// Matches a Cookie header holding `name=value` (any value when undefined), wherever it is in the list.
const cookiePrefix = '^(.*; ?)?';
const cookieMatch = (name: string, value?: string) => ({
  headers: [
    {
      type: 'RegularExpression',
      name: 'Cookie',
      value: `${cookiePrefix}${escape(name)}=${value === undefined ? '[^;]*' : escape(value)}(;.*)?$`,
    },
  ],
});
const setCookie = (value: string) => ({
  type: 'ResponseHeaderModifier',
  responseHeaderModifier: { add: [{ name: 'Set-Cookie', value }] },
});

/**
 * The HTTPRoute `<apex>` for a split: weighted primary/canary backends, plus A/B
 * and affinity rules. Every rule carries spec.service's matches (narrowed by the
 * rule's own), filters and timeout. Throws on spec.service fields unsupported()
 * rejects.
 */
export function httpRoute(canary: Canary, routes: Routes): Record<string, unknown> {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const port = s.port;
  const base = serviceMatches(s);
  const common = serviceFilters(s);
  if ('error' in base) throw new Error(`gatewayapi router: ${base.error}`);
  if ('error' in common) throw new Error(`gatewayapi router: ${common.error}`);
  const rule = (matches: Rule[] | undefined, own: Rule[], rest: Rule): Rule => {
    const filters = withFilters(common, own);
    return {
      ...(matches && matches.length > 0 ? { matches } : {}),
      ...(filters.length > 0 ? { filters } : {}),
      ...rest,
    };
  };
  const ref = (name: string, weight: number, filters?: Rule[]) => ({
    group: '',
    kind: 'Service',
    name,
    port,
    weight,
    ...(filters ? { filters } : {}),
  });
  const backends = (canaryWeight: number, filters: { primary?: Rule[]; canary?: Rule[] } = {}) => [
    ref(names.apexPrimary, 100 - canaryWeight, filters.primary),
    ref(names.apexCanary, canaryWeight, filters.canary),
  ];
  const timeouts = s.timeout
    ? { timeouts: { request: `${Math.round(durationMs(s.timeout, 0) / 1000)}s` } }
    : {};
  const rules: Rule[] = [];
  const weight = routes.canaryWeight;
  const cookies = affinityCookies(canary);
  const pinned: { primary?: Rule[]; canary?: Rule[] } = {};
  if (cookies) {
    const { maxAge } = cookies;
    const pins = [
      { cookie: cookies.canary, to: 100, side: 'canary' as const },
      ...(cookies.primary ? [{ cookie: cookies.primary, to: 0, side: 'primary' as const }] : []),
    ];
    for (const { cookie, to, side } of pins) {
      if (weight > 0) {
        // Users who got the cookie from a weighted answer keep reaching the same side;
        // the weighted rule below hands the cookie out.
        rules.push(
          rule(mergeMatches([cookieMatch(cookie.name, cookie.value)], base), [], {
            backendRefs: backends(to),
            ...timeouts,
          }),
        );
        pinned[side] = [setCookie(`${cookie.name}=${cookie.value}; Max-Age=${maxAge}; Path=/`)];
      } else {
        // No release moving traffic: whoever still holds a cookie gets it expired.
        rules.push(
          rule(
            mergeMatches([cookieMatch(cookie.name)], base),
            [setCookie(`${cookie.name}=; Max-Age=0; Path=/`)],
            { backendRefs: backends(0), ...timeouts },
          ),
        );
      }
    }
  }
  if (routes.matchToCanary) {
    for (const match of httpRouteMatches(canary.spec.analysis)) {
      rules.push(
        rule(mergeMatches([match], base), [], { backendRefs: backends(100), ...timeouts }),
      );
    }
  }
  const mirrorWeight = canary.spec.analysis.mirrorWeight;
  const mirror = routes.mirror
    ? [
        {
          type: 'RequestMirror',
          requestMirror: {
            backendRef: { group: '', kind: 'Service', name: names.apexCanary, port },
            ...(mirrorWeight !== undefined ? { percent: mirrorWeight } : {}),
          },
        },
      ]
    : undefined;
  // The weighted rule is always last: getRoutes reads the split from it.
  rules.push(rule(base, mirror ?? [], { backendRefs: backends(weight, pinned), ...timeouts }));
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: names.apex,
      namespace: canary.metadata.namespace,
      labels: { [canaryLabel]: canary.metadata.name },
      ownerReferences: [ownerReference(canary)],
    },
    spec: {
      parentRefs: (s.gatewayRefs ?? []).map((g) => ({
        group: g.group ?? 'gateway.networking.k8s.io',
        kind: g.kind ?? 'Gateway',
        name: g.name,
        ...(g.namespace ? { namespace: g.namespace } : {}),
        ...(g.sectionName ? { sectionName: g.sectionName } : {}),
        ...(g.port ? { port: g.port } : {}),
      })),
      ...(s.hosts?.length ? { hostnames: s.hosts } : {}),
      rules,
    },
  };
}

interface StoredRule {
  matches?: { headers?: { name?: string; type?: string; value?: string }[] }[];
  filters?: { type?: string; requestMirror?: { backendRef?: { name?: string } } }[];
  backendRefs?: { name: string; weight?: number }[];
}

/** A rule Weir adds for session affinity: every match tests the Cookie header the way Weir writes it. */
const isAffinityRule = (r: StoredRule) =>
  (r.matches?.length ?? 0) > 0 &&
  r.matches!.every((m) =>
    (m.headers ?? []).some((h) => h.name === 'Cookie' && (h.value ?? '').startsWith(cookiePrefix)),
  );

/** Why the gatewayapi provider cannot route a Canary, or undefined when it can. */
export function gatewayApiUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  if (canary.spec.service.routeRef)
    return (
      serviceFieldsUnsupported('gatewayapi', canary, userRouteServiceFields) ??
      userRouteUnsupported(canary)
    );
  const problem =
    serviceFieldsUnsupported('gatewayapi', canary, gatewayApiServiceFields) ??
    serviceRouteProblem(canary.spec.service);
  if (problem) return problem;
  const analysis = canary.spec.analysis;
  const istioOnly = (analysis.match ?? []).findIndex((m) => m.sourceLabels);
  if (istioOnly >= 0)
    return `analysis.match[${istioOnly}].sourceLabels selects callers by workload labels, which only Istio can do: the gatewayapi provider matches headers and queryParams`;
  if (analysis.sessionAffinity && strategy !== 'canary')
    return 'analysis.sessionAffinity pins users who reached the canary through its weight: it needs stepWeight or stepWeights, and blue/green or A/B testing sends no weighted traffic';
  if (analysis.mirror && strategy === 'abTesting')
    return 'analysis.mirror works with blue/green (iterations) and weighted canaries, not with A/B testing (match): remove one of them';
  return undefined;
}

/** Routes traffic with a Gateway API HTTPRoute (v1, standard channel). */
export class GatewayApiRouter implements Router {
  readonly name = 'gatewayapi';

  private readonly objects: k8s.KubernetesObjectApi;

  constructor(
    private readonly kube: KubeAccess,
    kubeConfig: k8s.KubeConfig,
  ) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  unsupported(canary: Canary, strategy: Strategy): string | undefined {
    return gatewayApiUnsupported(canary, strategy);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    if (canary.spec.service.routeRef) return this.setWeights(canary, routes);
    const route = httpRoute(canary, routes);
    await this.refuseKnownGaps(canary, routes, route);
    await this.kube.apply(route as k8s.KubernetesObject);
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    if (canary.spec.service.routeRef) {
      const found = await this.userRoute(canary).catch(() => undefined);
      return found && userRouteRoutes(found.route, found.points);
    }
    const route = (await this.objects
      .read({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: namesOf(canary).apex, namespace: canary.metadata.namespace! },
      })
      .catch(() => undefined)) as { spec?: { rules?: StoredRule[] } } | undefined;
    const rules = route?.spec?.rules ?? [];
    // The API server gives every rule a default path match, so the weighted rule is found by position.
    const weighted = rules.at(-1);
    if (!weighted) return undefined;
    const canaryName = namesOf(canary).apexCanary;
    const canaryWeight = (r: StoredRule) =>
      r.backendRefs?.find((b) => b.name === canaryName)?.weight ?? 0;
    return {
      canaryWeight: canaryWeight(weighted),
      matchToCanary: rules.slice(0, -1).some((r) => !isAffinityRule(r) && canaryWeight(r) === 100),
      mirror: (weighted.filters ?? []).some(
        (f) => f.type === 'RequestMirror' && f.requestMirror?.backendRef?.name === canaryName,
      ),
    };
  }

  async finalize(canary: Canary): Promise<void> {
    const all = { canaryWeight: 100, matchToCanary: false };
    if (!canary.spec.service.routeRef) {
      // A route the Gateway would break is not written at deletion either: the route
      // stays as it was until garbage collection takes it, and the deletion goes on.
      await this.setRoutes(canary, all).catch((err: unknown) => {
        if (!(err instanceof RoutingBlocked && err.reason === 'UnsupportedByGateway')) throw err;
      });
      return;
    }
    // A user's route that is gone or no longer names Weir's Services has nothing to give back.
    await this.setWeights(canary, all).catch((err: unknown) => {
      if (!(err instanceof RoutingBlocked)) throw err;
    });
  }

  /**
   * Refuses (RoutingBlocked `UnsupportedByGateway`) a route that a parent Gateway's
   * implementation is known to break (src/routers/gateway-implementations.ts). Only
   * a route with a feature some implementation lacks reads its Gateways and their
   * GatewayClasses; one that cannot be read (absent, or forbidden) blocks nothing.
   */
  private async refuseKnownGaps(
    canary: Canary,
    routes: Routes,
    route: Record<string, unknown>,
  ): Promise<void> {
    if (routeFeatures(route).length === 0) return;
    const gap = gatewayGap(route, await this.parentGateways(canary));
    if (!gap) return;
    const s = canary.spec.service;
    const fields =
      gap.feature === 'requestMirror'
        ? [
            ...(routes.mirror ? ['analysis.mirror'] : []),
            ...(s.mirror?.length ? ['spec.service.mirror'] : []),
          ]
        : ['analysis.sessionAffinity'];
    throw new RoutingBlocked(
      'UnsupportedByGateway',
      `Gateway ${gap.gateway} is implemented by ${gap.controllerName}, which is known to break ${gap.what}: ${gap.reason}. ` +
        `Weir did not write HTTPRoute ${canary.metadata.namespace}/${namesOf(canary).apex}, so its traffic stays where it was: ` +
        `remove ${fields.join(' and ')} from the Canary, or name a Gateway of another implementation in spec.service.gatewayRefs`,
    );
  }

  /** The Gateways of spec.service.gatewayRefs whose implementation Weir could read. */
  private async parentGateways(canary: Canary): Promise<GatewayParent[]> {
    const namespace = canary.metadata.namespace!;
    const controllers = new Map<string, string | undefined>();
    const parents = new Map<string, GatewayParent | undefined>();
    for (const ref of canary.spec.service.gatewayRefs ?? []) {
      if ((ref.group ?? gatewayGroup) !== gatewayGroup || (ref.kind ?? 'Gateway') !== 'Gateway')
        continue;
      const gateway = `${ref.namespace ?? namespace}/${ref.name}`;
      if (parents.has(gateway)) continue;
      const found = (await this.readIfAllowed('Gateway', ref.name, ref.namespace ?? namespace)) as
        { spec?: { gatewayClassName?: string } } | undefined;
      const className = found?.spec?.gatewayClassName;
      if (className && !controllers.has(className)) {
        const gatewayClass = (await this.readIfAllowed('GatewayClass', className)) as
          { spec?: { controllerName?: string } } | undefined;
        controllers.set(className, gatewayClass?.spec?.controllerName);
      }
      const controllerName = className ? controllers.get(className) : undefined;
      parents.set(gateway, controllerName ? { gateway, controllerName } : undefined);
    }
    return [...parents.values()].filter((p) => p !== undefined);
  }

  /**
   * A Gateway API object (`namespace` undefined: cluster-scoped), or undefined when it
   * does not exist or Weir may not read it (a Role cannot grant GatewayClasses, nor
   * Gateways in another namespace). Any other failure is thrown.
   */
  private async readIfAllowed(
    kind: 'Gateway' | 'GatewayClass',
    name: string,
    namespace?: string,
  ): Promise<k8s.KubernetesObject | undefined> {
    return this.objects
      .read({
        apiVersion: `${gatewayGroup}/v1`,
        kind,
        metadata: namespace === undefined ? { name } : { name, namespace },
      })
      .catch((err: unknown) => {
        const code = (err as { code?: number }).code;
        if (code === 404 || code === 403) return undefined;
        throw err;
      });
  }

  /** The user's route and where Weir's backends sit in it; RoutingBlocked when it cannot be split. */
  private async userRoute(canary: Canary): Promise<{ route: UserRoute; points: SplitPoint[] }> {
    const route = (await this.objects
      .read({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: {
          name: canary.spec.service.routeRef!.name,
          namespace: canary.metadata.namespace!,
        },
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
        throw new RoutingBlocked(
          'RouteNotFound',
          `HTTPRoute ${userRouteName(canary)} named by spec.service.routeRef does not exist: create it (in Git, beside the Canary), or remove routeRef to let Weir generate the route`,
        );
      })) as UserRoute;
    const points = splitPoints(route, canary);
    if ('error' in points) throw new RoutingBlocked('RouteConflict', points.error);
    return { route, points };
  }

  /**
   * Writes only the weights of Weir's backends in the user's route, and nothing
   * when they are already right. A route changed between the read and the patch
   * (a GitOps agent applying a commit) fails the patch's tests: read it again.
   */
  private async setWeights(canary: Canary, routes: Routes): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { route, points } = await this.userRoute(canary);
      const ops = weightPatch(route, points, routes);
      if (ops.length === 0) return;
      try {
        await this.kube.patchJson(
          httpRoutes,
          { namespace: canary.metadata.namespace!, name: canary.spec.service.routeRef!.name },
          ops,
        );
        return;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (attempt >= 3 || (code !== 409 && code !== 422)) throw err;
      }
    }
  }
}
