import type { CanaryService } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';

/**
 * The one rule for the routing fields of `spec.service`: a router either honours
 * a field (its objects carry it) or rejects a Canary that sets it, naming the
 * field, the provider and what to do instead. It never drops one silently.
 */

/** Fields of spec.service that describe the generated Services, not routing: every router uses them. */
export const serviceMetadataFields = [
  'name',
  'port',
  'portName',
  'targetPort',
  'appProtocol',
  'portDiscovery',
  'apex',
  'primary',
  'canary',
] as const;

/** A field of spec.service that only a router can give meaning to. */
export type RoutingField = Exclude<keyof CanaryService, (typeof serviceMetadataFields)[number]>;

/**
 * What to do instead, for a field a provider does not honour, unless the provider
 * says better. A record over every routing field, so a field added to the schema
 * does not compile until it has advice.
 */
export const defaultAdvice: Record<RoutingField, string> = {
  timeout: 'configure the timeout in the proxy that routes the traffic, and remove it',
  gateways:
    'it lists Istio gateways, which only the istio provider attaches to; remove it, or list Gateway API parents in spec.service.gatewayRefs with the gatewayapi provider',
  gatewayRefs:
    'it lists Gateway API parents, which only the gatewayapi provider attaches to; remove it',
  routeRef:
    'it names a Gateway API HTTPRoute whose weights only the gatewayapi provider changes; remove it',
  hosts: 'route the hostnames in the objects that expose the application, and remove it',
  delegation: 'VirtualService delegation is an Istio feature of the istio provider; remove it',
  trafficPolicy:
    'it is an Istio DestinationRule policy, which only the istio provider writes; remove it',
  match: 'restrict the routed requests in the objects that expose the application, and remove it',
  rewrite: 'rewrite requests in the objects that expose the application, and remove it',
  retries: 'configure retries in the proxy that routes the traffic, and remove it',
  headers: 'change headers in the proxy that routes the traffic, and remove it',
  corsPolicy: 'configure CORS in the proxy that routes the traffic, and remove it',
  mirror:
    'Gateway API mirror backends are for the gatewayapi provider; remove it (analysis.mirror mirrors traffic to the canary where the provider can)',
  meshName:
    'it names the Kuma mesh of the TrafficRoute, which only the kuma provider writes; remove it',
  backends: "only Flagger's App Mesh router uses it, and Weir has none; remove it",
};

/** Which routing fields a provider honours, and its own advice for the ones it does not. */
export interface ServiceFieldSupport {
  /** The fields the provider's objects carry. */
  honoured: readonly RoutingField[];
  /** What to do instead of a field not honoured, where it beats {@link defaultAdvice}. */
  instead?: Partial<Record<RoutingField, string>>;
}

/** Every routing field, in the schema's order. */
export const routingFields = Object.keys(defaultAdvice) as RoutingField[];

/** A field is set when it says something: not absent, false, an empty list or an empty object. */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** The routing fields the Canary sets that are not in `honoured`, in the schema's order. */
export function unhonouredServiceFields(
  canary: Canary,
  honoured: readonly RoutingField[],
): RoutingField[] {
  const service = canary.spec.service as Record<string, unknown>;
  return routingFields.filter((f) => !honoured.includes(f) && isSet(service[f]));
}

/**
 * Why `provider` cannot run the Canary's spec.service as declared, one clause per
 * field it does not honour, or undefined when it honours every field that is set.
 */
export function serviceFieldsUnsupported(
  provider: string,
  canary: Canary,
  support: ServiceFieldSupport,
): string | undefined {
  const fields = unhonouredServiceFields(canary, support.honoured);
  if (fields.length === 0) return undefined;
  return fields
    .map(
      (f) =>
        `spec.service.${f} is not supported by the ${provider} provider: ${support.instead?.[f] ?? defaultAdvice[f]}`,
    )
    .join('; ');
}
