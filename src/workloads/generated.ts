import type * as k8s from '@kubernetes/client-node';
import { apiVersion } from '../api/crds.js';
import type { Canary } from '../api/types.js';

/** Label on objects Weir generates, naming their Canary. */
export const canaryLabel = 'weir.dev/canary';

/** Owner reference that makes Kubernetes delete generated objects with their Canary. */
export function ownerReference(canary: Canary): k8s.V1OwnerReference {
  return {
    apiVersion,
    kind: 'Canary',
    name: canary.metadata.name!,
    uid: canary.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Names of the objects Weir generates for a Canary. */
export function namesOf(canary: Canary) {
  const target = canary.spec.targetRef.name;
  const apex = canary.spec.service.name ?? target;
  return {
    target,
    primary: `${target}-primary`,
    apex,
    apexPrimary: `${apex}-primary`,
    apexCanary: `${apex}-canary`,
  };
}
