import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Strategy } from '../api/strategy.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { ApisixRouter, apisixRouteReader, apisixUnsupported } from './apisix-router.js';
import { ContourRouter, contourUnsupported } from './contour-router.js';
import { GatewayApiRouter, gatewayApiUnsupported } from './gateway-api-router.js';
import { istioUnsupported } from './istio-objects.js';
import { IstioRouter } from './istio-router.js';
import type { KnativeService } from '../workloads/knative.js';
import { KnativeRouter, knativeUnsupported } from './knative-router.js';
import {
  KubernetesRouter,
  kubernetesUnsupported,
  type Target as KubernetesTarget,
} from './kubernetes-router.js';
import { KumaRouter, kumaUnsupported, trafficRouteReader } from './kuma-router.js';
import { LinkerdRouter, trafficSplitUnsupported } from './linkerd-router.js';
import { ingressReader } from './ingress-clone-router.js';
import { NginxRouter, nginxUnsupported } from './nginx-router.js';
import { RouterRegistry } from './registry.js';
import type { Router } from './router.js';
import { SkipperRouter, skipperUnsupported } from './skipper-router.js';
import { TraefikRouter, traefikUnsupported } from './traefik-router.js';

/** What routers are built from. */
export interface RouterDeps {
  kube: KubeAccess;
  kubeConfig: k8s.KubeConfig;
  /** The target workload of a Canary, from the cache (the plain-Service router selects by its label). */
  target(
    canary: Canary,
  ): k8s.V1Deployment | k8s.V1DaemonSet | k8s.V1StatefulSet | KnativeService | undefined;
  /** For what a router does outside a reconcile (kuma deletes a TrafficRoute when its Canary is gone). */
  logger?: Logger;
}

/** One traffic provider: its name in `spec.provider`, what it cannot route, how it is built. */
export interface RouterEntry {
  name: string;
  /** Why it cannot route the Canary, decided from the Canary alone (lint asks this too). */
  unsupported(canary: Canary, strategy: Strategy): string | undefined;
  build(deps: RouterDeps): Router;
}

/**
 * Every router Weir has, one entry each: the controller builds its registry from
 * this list and `weir lint` derives its capability table from it, so the two
 * cannot drift.
 */
export const routerFamily: readonly RouterEntry[] = [
  {
    name: 'gatewayapi',
    unsupported: gatewayApiUnsupported,
    build: (d) => new GatewayApiRouter(d.kube, d.kubeConfig),
  },
  {
    name: 'istio',
    unsupported: istioUnsupported,
    build: (d) => new IstioRouter(d.kube, d.kubeConfig),
  },
  {
    name: 'linkerd',
    unsupported: (canary, strategy) => trafficSplitUnsupported('linkerd', canary, strategy),
    build: (d) => new LinkerdRouter(d.kube, d.kubeConfig),
  },
  {
    name: 'smi',
    unsupported: (canary, strategy) => trafficSplitUnsupported('smi', canary, strategy),
    build: (d) => new LinkerdRouter(d.kube, d.kubeConfig, 'smi'),
  },
  {
    name: 'traefik',
    unsupported: traefikUnsupported,
    build: (d) => new TraefikRouter(d.kube, d.kubeConfig),
  },
  {
    name: 'contour',
    unsupported: contourUnsupported,
    build: (d) => new ContourRouter(d.kube, d.kubeConfig),
  },
  {
    name: 'nginx',
    unsupported: nginxUnsupported,
    build: (d) => new NginxRouter(d.kube, ingressReader(d.kubeConfig)),
  },
  {
    name: 'skipper',
    unsupported: skipperUnsupported,
    build: (d) => new SkipperRouter(d.kube, ingressReader(d.kubeConfig)),
  },
  {
    name: 'apisix',
    unsupported: apisixUnsupported,
    build: (d) => new ApisixRouter(d.kube, apisixRouteReader(d.kubeConfig)),
  },
  {
    name: 'kuma',
    unsupported: kumaUnsupported,
    build: (d) => new KumaRouter(d.kube, trafficRouteReader(d.kubeConfig), d.logger),
  },
  {
    name: 'knative',
    unsupported: knativeUnsupported,
    build: (d) => new KnativeRouter(d.kube, (c) => d.target(c) as KnativeService | undefined),
  },
  {
    name: 'kubernetes',
    unsupported: kubernetesUnsupported,
    build: (d) => new KubernetesRouter(d.kube, (c) => d.target(c) as KubernetesTarget | undefined),
  },
];

/** The controller's routers, one per entry of {@link routerFamily}. */
export function buildRouters(deps: RouterDeps): RouterRegistry {
  const registry = new RouterRegistry();
  for (const entry of routerFamily) registry.register(entry.build(deps));
  return registry;
}
