import * as k8s from '@kubernetes/client-node';
import type { CanaryAnalysis } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { durationMs } from '../machine/steps.js';
import { canaryLabel, namesOf, ownerReference } from '../workloads/workloads.js';
import type { Router, Routes } from './router.js';

type HeaderMatch = NonNullable<NonNullable<CanaryAnalysis['match']>[number]['headers']>[string];

function valueMatch(
  name: string,
  m: HeaderMatch,
): { type: 'Exact' | 'RegularExpression'; name: string; value: string } {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (m.exact !== undefined) return { type: 'Exact', name, value: m.exact };
  if (m.prefix !== undefined)
    return { type: 'RegularExpression', name, value: `^${escape(m.prefix)}.*` };
  if (m.suffix !== undefined)
    return { type: 'RegularExpression', name, value: `.*${escape(m.suffix)}$` };
  return { type: 'RegularExpression', name, value: m.regex ?? '.*' };
}

/** Gateway API HTTPRoute matches for `analysis.match` (headers and query parameters). */
export function httpRouteMatches(analysis: CanaryAnalysis): Record<string, unknown>[] {
  return (analysis.match ?? []).map((m) => ({
    ...(m.headers ? { headers: Object.entries(m.headers).map(([n, v]) => valueMatch(n, v)) } : {}),
    ...(m.queryParams
      ? { queryParams: Object.entries(m.queryParams).map(([n, v]) => valueMatch(n, v)) }
      : {}),
  }));
}

/** The HTTPRoute `<apex>` for a split: weighted primary/canary backends, plus A/B rules. */
export function httpRoute(canary: Canary, routes: Routes): Record<string, unknown> {
  const names = namesOf(canary);
  const s = canary.spec.service;
  const port = s.port;
  const backends = (canaryWeight: number) => [
    { group: '', kind: 'Service', name: names.apexPrimary, port, weight: 100 - canaryWeight },
    { group: '', kind: 'Service', name: names.apexCanary, port, weight: canaryWeight },
  ];
  const timeouts = s.timeout
    ? { timeouts: { request: `${Math.round(durationMs(s.timeout, 0) / 1000)}s` } }
    : {};
  const rules: Record<string, unknown>[] = [];
  if (routes.matchToCanary) {
    for (const match of httpRouteMatches(canary.spec.analysis)) {
      rules.push({ matches: [match], backendRefs: backends(100), ...timeouts });
    }
  }
  rules.push({ backendRefs: backends(routes.canaryWeight), ...timeouts });
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

  unsupported(): string | undefined {
    return undefined;
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    await this.kube.apply(httpRoute(canary, routes) as k8s.KubernetesObject);
  }

  async getRoutes(canary: Canary): Promise<Routes | undefined> {
    const route = (await this.objects
      .read({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: namesOf(canary).apex, namespace: canary.metadata.namespace! },
      })
      .catch(() => undefined)) as
      | {
          spec?: {
            rules?: { matches?: unknown[]; backendRefs?: { name: string; weight?: number }[] }[];
          };
        }
      | undefined;
    const rules = route?.spec?.rules ?? [];
    const weighted = rules.find((r) => !r.matches || r.matches.length === 0) ?? rules.at(-1);
    const canaryRef = weighted?.backendRefs?.find((b) => b.name === namesOf(canary).apexCanary);
    if (!weighted) return undefined;
    return {
      canaryWeight: canaryRef?.weight ?? 0,
      matchToCanary: rules.some((r) => (r.matches?.length ?? 0) > 0),
    };
  }

  async finalize(canary: Canary): Promise<void> {
    await this.setRoutes(canary, { canaryWeight: 100, matchToCanary: false });
  }
}
