import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import type { Strategy } from '../api/strategy.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/generated.js';
import { OwnedObjectRouter } from './owned-object-router.js';
import type { Routes } from './router.js';
import { serviceFieldsUnsupported, type ServiceFieldSupport } from './service-fields.js';

export const traefikServiceApiVersion = 'traefik.io/v1alpha1';

interface TraefikBackend {
  kind?: string;
  name?: string;
  port?: number | string;
  weight?: number;
  percent?: number;
}

/** The parts of a TraefikService read back. */
export interface TraefikServiceObject {
  spec?: {
    weighted?: { services?: TraefikBackend[] };
    mirroring?: TraefikBackend & { mirrors?: TraefikBackend[] };
  };
}

/**
 * The TraefikService `<apex>` for a split, which the user's IngressRoute names
 * as its service. A weighted round robin over the primary and canary Services;
 * a Service at weight 0 is left out, as Flagger does, so no Traefik version can
 * read an absent weight as its default of 1. While the canary is mirrored
 * (Weir mirrors only before any traffic moves, at weight 0), the apex is a
 * `mirroring` service instead: the primary answers, the canary gets a copy of
 * `analysis.mirrorWeight` percent of the requests.
 */
export function traefikService(canary: Canary, routes: Routes): Record<string, unknown> {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const backend = (name: string) => ({ kind: 'Service', name, port: s.port });
  const spec =
    routes.mirror && routes.canaryWeight === 0
      ? {
          mirroring: {
            ...backend(names.apexPrimary),
            mirrors: [
              {
                ...backend(names.apexCanary),
                percent: canary.spec.analysis.mirrorWeight ?? 100,
              },
            ],
          },
        }
      : {
          weighted: {
            services: [
              { ...backend(names.apexPrimary), weight: 100 - routes.canaryWeight },
              { ...backend(names.apexCanary), weight: routes.canaryWeight },
            ].filter((b) => b.weight > 0),
          },
        };
  return {
    apiVersion: traefikServiceApiVersion,
    kind: 'TraefikService',
    metadata: {
      name: names.apex,
      namespace: canary.metadata.namespace,
      // spec.service.apex metadata goes on the object Traefik reads, as in Flagger.
      labels: { ...(s.apex?.labels ?? {}), [canaryLabel]: canary.metadata.name },
      ...(s.apex?.annotations ? { annotations: s.apex.annotations } : {}),
      ownerReferences: [ownerReference(canary)],
    },
    spec,
  };
}

const inIngressRoute = (what: string) =>
  `${what} belongs on your IngressRoute (which names TraefikService <apex>), not on the TraefikService Weir owns; set it there and remove it`;

/**
 * A TraefikService carries only the weighted (or mirroring) Services: routing
 * and middlewares live in the user's IngressRoute, which Weir does not write.
 */
export const traefikServiceFields: ServiceFieldSupport = {
  honoured: [],
  instead: {
    hosts: inIngressRoute('the Host() rule'),
    match: inIngressRoute('the request match'),
    rewrite: inIngressRoute('a ReplacePath or ReplacePathRegex Middleware'),
    headers: inIngressRoute('a Headers Middleware'),
    corsPolicy: inIngressRoute('a Headers Middleware with CORS settings'),
    retries: inIngressRoute('a Retry Middleware'),
    timeout:
      'Traefik sets timeouts in a ServersTransport (forwardingTimeouts) or on its entry points, not on a TraefikService; configure one there and remove it',
  },
};

/**
 * Why a TraefikService cannot run this Canary, or undefined. Request matching
 * lives in the user's IngressRoute, not in the TraefikService Weir owns; and
 * Traefik's sticky cookie pins every user to whichever Service served them
 * first, primary included, so later weight steps would not move returning users.
 */
export function traefikUnsupported(canary: Canary, strategy: Strategy): string | undefined {
  const fields = serviceFieldsUnsupported('traefik', canary, traefikServiceFields);
  if (fields) return fields;
  if (strategy === 'abTesting')
    return 'the traefik provider cannot route by header or query (request matching lives in your IngressRoute, which Weir does not own): remove analysis.match (A/B testing), or use gatewayapi or contour';
  if (canary.spec.analysis.sessionAffinity)
    return "the traefik provider cannot pin sessions to the canary: Traefik's sticky cookie also pins users to the primary, so weight steps would stop moving them; remove analysis.sessionAffinity";
  return undefined;
}

/** The split a TraefikService holds, or undefined when it has neither shape. */
export function routesOfTraefikService(
  canary: Canary,
  object: TraefikServiceObject | undefined,
): Routes | undefined {
  const names = namesOf(canary);
  const mirroring = object?.spec?.mirroring;
  if (mirroring) {
    return {
      canaryWeight: mirroring.name === names.apexCanary ? 100 : 0,
      matchToCanary: false,
      mirror: (mirroring.mirrors ?? []).some((m) => m.name === names.apexCanary),
    };
  }
  const services = object?.spec?.weighted?.services;
  if (!services) return undefined;
  const weight = (name: string) =>
    services.filter((b) => b.name === name).reduce((sum, b) => sum + (b.weight ?? 1), 0);
  const total = weight(names.apexPrimary) + weight(names.apexCanary);
  return {
    canaryWeight: total > 0 ? Math.round((weight(names.apexCanary) * 100) / total) : 0,
    matchToCanary: false,
    mirror: false,
  };
}

/** Routes traffic with a Traefik TraefikService (traefik.io/v1alpha1) named by the user's IngressRoute. */
export class TraefikRouter extends OwnedObjectRouter<TraefikServiceObject> {
  constructor(kube: KubeAccess, kubeConfig: k8s.KubeConfig) {
    super(kube, kubeConfig, {
      name: 'traefik',
      apiVersion: traefikServiceApiVersion,
      kind: 'TraefikService',
      build: traefikService,
      routesOf: routesOfTraefikService,
      unsupported: traefikUnsupported,
    });
  }
}
