import * as k8s from '@kubernetes/client-node';
import { group, version } from '../api/crds.js';
import { notLeader } from '../errors.js';

/** Weir's field manager for server-side apply: every object it owns is applied under this name. */
export const fieldManager = 'weir';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** A reference to a namespaced object. */
export interface ObjectRef {
  namespace: string;
  name: string;
}

/**
 * The one choke point for Weir's API writes: server-side apply for owned
 * objects, JSON merge patch for status and scale, create for Events. Nothing
 * else in the controller writes to the API server.
 */
export interface KubeAccess {
  apply<T extends k8s.KubernetesObject>(obj: T): Promise<T>;
  patchStatus(
    kind: 'canaries' | 'canaryruns',
    ref: ObjectRef,
    status: Record<string, unknown>,
  ): Promise<void>;
  patchMetadata(kind: 'canaries', ref: ObjectRef, metadata: Record<string, unknown>): Promise<void>;
  scaleDeployment(ref: ObjectRef, replicas: number): Promise<void>;
  createEvent(event: k8s.CoreV1Event): Promise<void>;
  deleteObject(obj: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string };
  }): Promise<void>;
}

/**
 * Builds the access layer on a kubeconfig. `mayWrite` is asked before every write
 * (leader election: only the leader writes); a refusal throws a NotLeader error.
 */
export function createKubeAccess(
  kubeConfig: k8s.KubeConfig,
  mayWrite: () => boolean = () => true,
): KubeAccess {
  const guard = () => {
    if (!mayWrite()) throw notLeader();
  };
  const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    async apply(obj) {
      guard();
      return objects.patch(
        obj,
        undefined,
        undefined,
        fieldManager,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    },
    async patchStatus(plural, ref, status) {
      guard();
      await custom.patchNamespacedCustomObjectStatus(
        { group, version, plural, namespace: ref.namespace, name: ref.name, body: { status } },
        mergePatch,
      );
    },
    async patchMetadata(plural, ref, metadata) {
      guard();
      await custom.patchNamespacedCustomObject(
        { group, version, plural, namespace: ref.namespace, name: ref.name, body: { metadata } },
        mergePatch,
      );
    },
    async scaleDeployment(ref, replicas) {
      guard();
      await apps.patchNamespacedDeploymentScale(
        { namespace: ref.namespace, name: ref.name, body: { spec: { replicas } } },
        mergePatch,
      );
    },
    async createEvent(event) {
      guard();
      await core.createNamespacedEvent({ namespace: event.metadata.namespace!, body: event });
    },
    async deleteObject(obj) {
      guard();
      await objects.delete(obj).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      });
    },
  };
}
