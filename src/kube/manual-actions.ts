import * as k8s from '@kubernetes/client-node';
import { group, version } from '../api/crds.js';
import { actionAnnotations, actionRefusal, type ManualAction } from '../api/manual-actions.js';
import type { Canary } from '../api/types.js';

/** Where a manual action acts: a kubeconfig and the Canary's namespace. */
export interface ActionTarget {
  kubeConfig: k8s.KubeConfig;
  namespace: string;
}

/** Reads one Canary from the API server (not from a cache: an action acts on the latest). */
export async function readCanary(t: ActionTarget, name: string): Promise<Canary> {
  const custom = t.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.getNamespacedCustomObject({
    group,
    version,
    namespace: t.namespace,
    plural: 'canaries',
    name,
  })) as Canary;
}

/**
 * promote / abort / retry / approve: sets the annotation the controller reads, valued
 * with the revision it applies to, so a stale request never touches a later release.
 * The same annotation can be committed to Git instead (docs/adr/0004). Used by
 * `weir promote|abort|retry|approve` and by the dashboard alike. Resolves to a
 * sentence saying what was written; rejects with one saying why not.
 */
export async function requestAction(
  t: ActionTarget,
  name: string,
  action: ManualAction,
): Promise<string> {
  const canary = await readCanary(t, name);
  const revision = canary.status?.lastAppliedSpec;
  if (!revision)
    throw new Error(
      `Canary ${t.namespace}/${name} has no release yet (status.lastAppliedSpec is empty)`,
    );
  const phase = canary.status?.phase ?? 'Unknown';
  const refusal = actionRefusal(action, phase);
  if (refusal) throw new Error(`Canary ${t.namespace}/${name} is ${phase}; ${refusal}`);
  const annotation = actionAnnotations[action];
  // A value the controller has not seen: a request acts once (see docs/adr/0004). Approve
  // is the exception: the gates compare it with the revision, and it stays true for it.
  const previous = canary.metadata.annotations?.[annotation];
  const value =
    action !== 'approve' && (previous === revision || previous?.startsWith(`${revision}-`))
      ? `${revision}-${Date.now().toString(36)}`
      : revision;
  const custom = t.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    {
      group,
      version,
      namespace: t.namespace,
      plural: 'canaries',
      name,
      body: { metadata: { annotations: { [annotation]: value } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  return `${action} requested for ${t.namespace}/${name} at revision ${revision} (annotation ${annotation}=${value})`;
}
