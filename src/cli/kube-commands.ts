import * as k8s from '@kubernetes/client-node';
import type { Canary, CanaryRun } from '../api/types.js';
import { group, version } from '../api/crds.js';
import { readCanary } from '../kube/manual-actions.js';
import { canaryLabel } from '../workloads/generated.js';
import { outboxOf, withPending } from '../contracts/records.js';
import { formatHistory } from './history.js';
import type { CanaryView } from './get-view.js';

// The dashboard writes through the same code: it lives below both (src/kube/).
export { requestAction } from '../kube/manual-actions.js';

/** Where a command acts: a kubeconfig and a namespace, as kubectl resolves them. */
export interface Target {
  kubeConfig: k8s.KubeConfig;
  namespace: string;
}

/** Loads the kubeconfig like kubectl: --kubeconfig, else $KUBECONFIG, else ~/.kube/config or in-cluster. */
export function resolveTarget(options: {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}): Target {
  const kubeConfig = new k8s.KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (options.context) kubeConfig.setCurrentContext(options.context);
  const namespace =
    options.namespace ??
    kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ??
    'default';
  return { kubeConfig, namespace };
}

/** The CanaryRuns of a Canary as a readable timeline. */
export async function history(t: Target, name: string): Promise<string> {
  const custom = t.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group,
    version,
    namespace: t.namespace,
    plural: 'canaryruns',
    labelSelector: `${canaryLabel}=${name}`,
  })) as { items: CanaryRun[] };
  // Weight steps wait in the Canary status until their run is written (see Recorder.flush).
  const outbox = await readCanary(t, name).then(
    (c) => outboxOf(c),
    () => [],
  );
  return formatHistory(`${t.namespace}/${name}`, list.items, outbox);
}

/** Everything `weir get <name>` shows, read in one go. */
export async function getView(t: Target, name: string): Promise<CanaryView> {
  const canary = await readCanary(t, name);
  const custom = t.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const apps = t.kubeConfig.makeApiClient(k8s.AppsV1Api);
  const runName = canary.status?.currentRun;
  const [run, primary, target] = await Promise.all([
    runName
      ? (custom
          .getNamespacedCustomObject({
            group,
            version,
            namespace: t.namespace,
            plural: 'canaryruns',
            name: runName,
          })
          .catch(() => undefined) as Promise<CanaryRun | undefined>)
      : undefined,
    apps
      .readNamespacedDeployment({
        name: `${canary.spec.targetRef.name}-primary`,
        namespace: t.namespace,
      })
      .catch(() => undefined),
    apps
      .readNamespacedDeployment({ name: canary.spec.targetRef.name, namespace: t.namespace })
      .catch(() => undefined),
  ]);
  const images = (d: k8s.V1Deployment | undefined) =>
    (d?.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '');
  const outbox = outboxOf(canary);
  return {
    canary,
    ...(run
      ? { run: { ...run, status: { ...run.status, transitions: withPending(run, outbox) } } }
      : {}),
    images: {
      primary: images(primary),
      canary: (target?.spec?.replicas ?? 0) > 0 ? images(target) : [],
    },
    now: Date.now(),
  };
}

/** The Canaries of the namespace, for `weir get` without a name. */
export async function listCanaries(t: Target): Promise<Canary[]> {
  const custom = t.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group,
    version,
    namespace: t.namespace,
    plural: 'canaries',
  })) as {
    items: Canary[];
  };
  return list.items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}
