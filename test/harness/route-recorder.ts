import * as k8s from '@kubernetes/client-node';

/** The canary weight an HTTPRoute carried from `at` (wall clock, epoch ms) on. */
export interface RouteWeight {
  at: number;
  weight: number;
}

/** What a test saw an HTTPRoute do over time. */
export interface RouteRecorder {
  /** Every distinct canary weight of the route, in order, with when the watch saw it. */
  weights(name: string): RouteWeight[];
  stop(): Promise<void>;
}

/**
 * Watches the HTTPRoutes of a namespace from the test's side and keeps, per route,
 * each change of the canary backend's weight with the time the watch delivered it:
 * what the data plane would have been told, and when. The watch reconnects by
 * itself after the API server stalls or restarts.
 */
export async function recordRoutes(
  kubeConfig: k8s.KubeConfig,
  namespace: string,
): Promise<RouteRecorder> {
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const api = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
  const informer = k8s.makeInformer<k8s.KubernetesObject>(
    kubeConfig,
    `/apis/${api.group}/${api.version}/namespaces/${namespace}/${api.plural}`,
    () =>
      custom.listNamespacedCustomObject({ ...api, namespace }) as Promise<
        k8s.KubernetesListObject<k8s.KubernetesObject>
      >,
  );
  const seen = new Map<string, RouteWeight[]>();
  const observe = (route: k8s.KubernetesObject) => {
    const name = route.metadata?.name ?? '';
    const weight = canaryWeight(route);
    if (weight === undefined) return;
    const list = seen.get(name) ?? [];
    if (list.at(-1)?.weight !== weight) list.push({ at: Date.now(), weight });
    seen.set(name, list);
  };
  informer.on('add', observe);
  informer.on('update', observe);
  let stopped = false;
  // A test client must outlive the faults it injects: restart after any watch error.
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 500);
  });
  await informer.start();
  return {
    weights: (name) => [...(seen.get(name) ?? [])],
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}

/** The weight of the `-canary` backend in the route's last rule (Weir's weighted rule). */
function canaryWeight(route: k8s.KubernetesObject): number | undefined {
  const rules = (
    route as { spec?: { rules?: { backendRefs?: { name: string; weight?: number }[] }[] } }
  ).spec?.rules;
  const refs = rules?.at(-1)?.backendRefs ?? [];
  const canary = refs.find((r) => r.name.endsWith('-canary'));
  return canary ? (canary.weight ?? 1) : undefined;
}
