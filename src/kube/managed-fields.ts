import type * as k8s from '@kubernetes/client-node';
import { fieldManager } from './access.js';

type ManagedFieldsEntry = k8s.V1ManagedFieldsEntry;

/**
 * Field managers that apply manifests from Git with client-side writes (operation
 * `Update`) but own what they write as an applier would. Everything else counts
 * only when it uses server-side apply (Flux, Argo CD with ServerSideApply, kubectl
 * apply --server-side).
 */
const gitOpsUpdaters = new Set(['argocd-controller']);

const ownsReplicas = (e: ManagedFieldsEntry) => {
  const spec = (e.fieldsV1 as Record<string, Record<string, unknown>> | undefined)?.['f:spec'];
  return spec !== undefined && 'f:replicas' in spec;
};

const isApplier = (e: ManagedFieldsEntry) =>
  !e.subresource &&
  e.manager !== fieldManager &&
  (e.operation === 'Apply' || gitOpsUpdaters.has(e.manager ?? ''));

/**
 * The applier (a GitOps agent or `kubectl apply --server-side`) that declares a
 * workload's `spec.replicas`, if any: it will set them back after anyone else
 * changes them, so Weir must not scale that workload itself.
 */
export function replicasAppliedBy(obj: k8s.KubernetesObject): string | undefined {
  return obj.metadata?.managedFields?.find((e) => isApplier(e) && ownsReplicas(e))?.manager;
}

/**
 * Managed fields reduced to what Weir reads ({@link replicasAppliedBy}): the
 * appliers of `spec.replicas`, with only that field. The rest is often larger
 * than the object itself.
 */
export function slimManagedFields(
  entries: ManagedFieldsEntry[] | undefined,
): ManagedFieldsEntry[] | undefined {
  const kept = (entries ?? [])
    .filter((e) => isApplier(e) && ownsReplicas(e))
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    }));
  return kept.length > 0 ? kept : undefined;
}
