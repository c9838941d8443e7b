import type { Canary } from '../api/types.js';
import { namesOf } from '../workloads/generated.js';
import type { Routes } from './router.js';
import type { ServiceFieldSupport } from './service-fields.js';

/**
 * An HTTPRoute the user owns (spec.service.routeRef), kept in Git with its own
 * name, parents, filters and rules. Weir changes one thing in it: the `weight` of
 * the backendRefs naming `<apex>-primary` and `<apex>-canary`, in every rule that
 * names both. Nothing here does I/O: the router reads the route, asks for the
 * JSON patch and sends it.
 *
 * Server-side apply cannot share a rule between Git and Weir (HTTPRoute rules and
 * backendRefs are atomic lists), so Weir writes with a JSON patch whose `test`
 * operations pin each weight to the backend it belongs to, and a GitOps agent is
 * told to leave exactly those weights alone (docs/gitops.md, ADR 0016).
 */

type BackendRef = {
  name?: string;
  group?: string;
  kind?: string;
  namespace?: string;
  weight?: number;
};
type Rule = { backendRefs?: BackendRef[] };

/** The part of an HTTPRoute read back that the split needs. */
export interface UserRoute {
  metadata?: { name?: string; namespace?: string };
  spec?: { rules?: Rule[] };
}

/** Where Weir's two backends sit in one rule of the user's route. */
export interface SplitPoint {
  rule: number;
  primary: number;
  canary: number;
}

/** One operation of an RFC 6902 JSON patch. */
export type JsonPatchOp =
  { op: 'test'; path: string; value: unknown } | { op: 'add'; path: string; value: unknown };

// A backendRef without a weight weighs 1 (the Gateway API default).
const defaultWeight = 1;

/** The user's route named by a Canary, as `namespace/name`, for messages. */
export const userRouteName = (canary: Canary) =>
  `${canary.metadata.namespace}/${canary.spec.service.routeRef?.name}`;

/** Every rule of the route that names both of Weir's Services, or why there is none. */
export function splitPoints(route: UserRoute, canary: Canary): SplitPoint[] | { error: string } {
  const names = namesOf(canary);
  const isService = (b: BackendRef, name: string) =>
    b.name === name &&
    (b.group ?? '') === '' &&
    (b.kind ?? 'Service') === 'Service' &&
    (b.namespace === undefined || b.namespace === canary.metadata.namespace);
  const points: SplitPoint[] = [];
  (route.spec?.rules ?? []).forEach((rule, i) => {
    const refs = rule.backendRefs ?? [];
    const primary = refs.findIndex((b) => isService(b, names.apexPrimary));
    const canaryRef = refs.findIndex((b) => isService(b, names.apexCanary));
    if (primary >= 0 && canaryRef >= 0) points.push({ rule: i, primary, canary: canaryRef });
  });
  if (points.length > 0) return points;
  return {
    error: `HTTPRoute ${userRouteName(canary)} (spec.service.routeRef) has no rule whose backendRefs name both Services ${names.apexPrimary} and ${names.apexCanary}: add both to the rule Weir should split, with weights 100 and 0`,
  };
}

const weightPath = (p: SplitPoint, ref: number) => `/spec/rules/${p.rule}/backendRefs/${ref}`;

/**
 * The JSON patch that gives every split point the weights of `routes`, or an empty
 * list when the route already carries them. Each weight is written after a `test`
 * of the name at the same position, so a route reordered since it was read is
 * refused by the API server instead of getting a weight on the wrong backend.
 */
export function weightPatch(route: UserRoute, points: SplitPoint[], routes: Routes): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const want = (side: 'primary' | 'canary') =>
    side === 'canary' ? routes.canaryWeight : 100 - routes.canaryWeight;
  for (const p of points) {
    const refs = route.spec!.rules![p.rule]!.backendRefs!;
    for (const side of ['primary', 'canary'] as const) {
      const ref = refs[p[side]]!;
      if ((ref.weight ?? defaultWeight) === want(side)) continue;
      ops.push(
        { op: 'test', path: `${weightPath(p, p[side])}/name`, value: ref.name },
        { op: 'add', path: `${weightPath(p, p[side])}/weight`, value: want(side) },
      );
    }
  }
  return ops;
}

/** The split the route carries, read from its first split point. */
export function userRouteRoutes(route: UserRoute, points: SplitPoint[]): Routes {
  const p = points[0]!;
  const refs = route.spec!.rules![p.rule]!.backendRefs!;
  const primary = refs[p.primary]!.weight ?? defaultWeight;
  const canary = refs[p.canary]!.weight ?? defaultWeight;
  const total = primary + canary;
  return {
    canaryWeight: total === 0 ? 0 : Math.round((100 * canary) / total),
    matchToCanary: false,
  };
}

const yours = (field: string) =>
  `with spec.service.routeRef the HTTPRoute is yours: declare ${field} in it, and remove it here`;

/** With routeRef, every other routing field belongs in the user's route. */
export const userRouteServiceFields: ServiceFieldSupport = {
  honoured: ['routeRef'],
  instead: {
    gatewayRefs: yours('its parentRefs'),
    hosts: yours('its hostnames'),
    match: yours('the matches of the rule Weir splits'),
    rewrite: yours('a URLRewrite filter'),
    headers: yours('header modifier filters'),
    timeout: yours('the rule’s timeouts'),
    mirror: yours('RequestMirror filters'),
  },
};

/**
 * What Weir cannot do in a route it may only change weights in: every feature
 * that needs rules or filters of its own.
 */
export function userRouteUnsupported(canary: Canary): string | undefined {
  const analysis = canary.spec.analysis;
  const generate = 'remove spec.service.routeRef and let Weir generate the route';
  if ((analysis.match ?? []).length > 0)
    return `analysis.match needs a rule of Weir's own for the matched requests, and Weir changes only weights in HTTPRoute ${userRouteName(canary)} (spec.service.routeRef): ${generate}`;
  if (analysis.mirror)
    return `analysis.mirror needs a RequestMirror filter of Weir's own, and Weir changes only weights in HTTPRoute ${userRouteName(canary)} (spec.service.routeRef): ${generate}`;
  if (analysis.sessionAffinity)
    return `analysis.sessionAffinity needs cookie rules of Weir's own, and Weir changes only weights in HTTPRoute ${userRouteName(canary)} (spec.service.routeRef): ${generate}`;
  return undefined;
}
