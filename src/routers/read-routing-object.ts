import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import { namesOf } from '../workloads/workloads.js';

/**
 * Reads a router's object `<apex>` in the Canary's namespace, for getRoutes:
 * undefined when it does not exist (not created yet, or collected after the
 * Canary went); any other error is thrown, so an outage is not read as "no routes".
 */
export async function readRoutingObject<T>(
  objects: k8s.KubernetesObjectApi,
  apiVersion: string,
  kind: string,
  canary: Canary,
): Promise<T | undefined> {
  const ref = { name: namesOf(canary).apex, namespace: canary.metadata.namespace! };
  return (await objects.read({ apiVersion, kind, metadata: ref }).catch((err: unknown) => {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  })) as T | undefined;
}
