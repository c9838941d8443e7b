/**
 * What some Gateway API implementations are known not to do with a route Weir
 * generates. The HTTPRoute is standard, but an implementation may break a part of
 * it without saying so in the route's status: Weir then refuses to write the route
 * (RoutingBlocked `UnsupportedByGateway`) rather than harm the traffic it carries.
 * Another implementation's gaps are one more entry of {@link knownGaps}, by its
 * GatewayClass `spec.controllerName`.
 */

/** A part of a generated HTTPRoute that an implementation may lack. */
export type GatewayFeature = 'requestMirror' | 'backendRefFilters';

interface RouteRule {
  filters?: { type?: string }[];
  backendRefs?: { filters?: unknown[] }[];
}

/** Each feature: what it is in a route's words, and whether a rule uses it. */
const features: Record<GatewayFeature, { what: string; usedBy: (rule: RouteRule) => boolean }> = {
  requestMirror: {
    what: 'RequestMirror filters',
    usedBy: (rule) => (rule.filters ?? []).some((f) => f.type === 'RequestMirror'),
  },
  backendRefFilters: {
    what: 'filters on a backendRef (backendRefs[].filters)',
    usedBy: (rule) => (rule.backendRefs ?? []).some((b) => (b.filters?.length ?? 0) > 0),
  },
};

/** Known gaps by GatewayClass `spec.controllerName`: per feature, what the implementation does instead. */
export type KnownGaps = Readonly<Record<string, Partial<Record<GatewayFeature, string>>>>;

export const knownGaps: KnownGaps = {
  'traefik.io/gateway-controller': {
    requestMirror:
      'Traefik v3 (measured on v3.6.12) answers 500 to every request of a rule with a RequestMirror filter, and the HTTPRoute status does not say so',
    backendRefFilters:
      'Traefik v3 (measured on v3.6.12) ignores filters on a backendRef, so the session-affinity cookie is never handed out and no user stays on the side they reached',
  },
};

/** The features of {@link GatewayFeature} a route uses, in the order of that type. */
export function routeFeatures(route: Record<string, unknown>): GatewayFeature[] {
  const rules = ((route.spec as { rules?: RouteRule[] } | undefined)?.rules ?? []).filter(
    (r): r is RouteRule => typeof r === 'object' && r !== null,
  );
  return (Object.keys(features) as GatewayFeature[]).filter((f) => rules.some(features[f].usedBy));
}

/** A parent Gateway of a route, and the controller that implements its GatewayClass. */
export interface GatewayParent {
  /** `namespace/name` */
  gateway: string;
  controllerName: string;
}

/** A feature a route uses that one of its parent Gateways is known to break. */
export interface GatewayGap extends GatewayParent {
  feature: GatewayFeature;
  /** What the feature is, in a route's words. */
  what: string;
  /** What the implementation does with it instead. */
  reason: string;
}

/**
 * The first gap that applies to `route` on `parents` (in their order, then in the
 * order of {@link GatewayFeature}), or undefined.
 */
export function gatewayGap(
  route: Record<string, unknown>,
  parents: readonly GatewayParent[],
  gaps: KnownGaps = knownGaps,
): GatewayGap | undefined {
  const used = routeFeatures(route);
  for (const parent of parents) {
    const known = Object.hasOwn(gaps, parent.controllerName) ? gaps[parent.controllerName] : {};
    for (const feature of used) {
      const reason = known?.[feature];
      if (reason) return { ...parent, feature, what: features[feature].what, reason };
    }
  }
  return undefined;
}
