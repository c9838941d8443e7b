import * as k8s from '@kubernetes/client-node';
import { group, version } from '../api/crds.js';
import { notLeader, RoutingBlocked } from '../errors.js';

/** Weir's field manager for server-side apply: every object it owns is applied under this name. */
export const fieldManager = 'weir';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

/** A reference to a namespaced object. */
export interface ObjectRef {
  namespace: string;
  name: string;
}

/**
 * The one choke point for Weir's API writes: server-side apply for owned
 * objects, JSON merge patch for status, scale, a DaemonSet's parking and a StatefulSet's partition, JSON patch for the weights in
 * a route the user owns, create for Events. Nothing
 * else in the controller writes to the API server.
 */
export interface KubeAccess {
  apply<T extends k8s.KubernetesObject>(obj: T): Promise<T>;
  /**
   * Merges `status` into the object's status. With `resourceVersion` the write is
   * conditional: it fails with 409 if the object changed since that version, so a
   * write delayed in a stalled API server can never land over a newer one.
   * Resolves to the object's new resourceVersion.
   */
  patchStatus(
    kind: 'canaries' | 'canaryruns',
    ref: ObjectRef,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<string | undefined>;
  patchMetadata(kind: 'canaries', ref: ObjectRef, metadata: Record<string, unknown>): Promise<void>;
  /**
   * Sends an RFC 6902 JSON patch to a custom object that is not Weir's (a user's
   * HTTPRoute): only the paths the operations name change, and a failed `test`
   * operation refuses the whole patch (422).
   */
  patchJson(
    resource: { group: string; version: string; plural: string },
    ref: ObjectRef,
    operations: readonly Record<string, unknown>[],
  ): Promise<void>;
  scaleDeployment(ref: ObjectRef, replicas: number): Promise<void>;
  /**
   * Merge-patches a DaemonSet or StatefulSet the user owns (the target): only the
   * fields the patch names change, under Weir's field manager. Weir uses it for one
   * key of a DaemonSet's node selector (parking, ADR 0018) and for a StatefulSet's
   * partition (ADR 0019).
   */
  patchWorkload(
    kind: 'DaemonSet' | 'StatefulSet',
    ref: ObjectRef,
    patch: Record<string, unknown>,
  ): Promise<void>;
  /** The pods `labelSelector` selects (a read: a StatefulSet's pods, on a rollback only). */
  listPods(namespace: string, labelSelector: string): Promise<k8s.V1Pod[]>;
  /**
   * Evicts a pod of a StatefulSet for its controller to recreate it at the current
   * revision. An eviction honours the pod's PodDisruptionBudgets: when one refuses
   * (429), it resolves false and the pod is tried again at a later reconcile. `uid`
   * makes sure it is that pod, not one recreated under its name.
   */
  evictPod(ref: ObjectRef, uid: string): Promise<boolean>;
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
  // Objects known to be this controller's (created by it, or found owned): no read again.
  const verified = new Set<string>();
  /**
   * An object Weir generates names its Canary as controller owner. Before the first
   * apply this process makes to it, it must be absent or already owned by that
   * Canary: server-side apply with force would otherwise take another app's
   * Service, Secret or route over, and garbage collection would delete it with the
   * Canary. (A create racing this read is not caught; the window is one request.)
   */
  const checkOwnership = async (obj: k8s.KubernetesObject) => {
    const owner = obj.metadata?.ownerReferences?.find((o) => o.controller);
    if (!owner) return;
    const { namespace, name } = obj.metadata!;
    const id = `${owner.uid}/${obj.apiVersion}/${obj.kind}/${namespace}/${name}`;
    if (verified.has(id)) return;
    const existing = await objects
      .read({
        apiVersion: obj.apiVersion!,
        kind: obj.kind!,
        metadata: { name: name!, namespace: namespace! },
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      });
    if (existing && !existing.metadata?.ownerReferences?.some((o) => o.uid === owner.uid)) {
      throw new RoutingBlocked(
        'NameConflict',
        `${obj.kind} ${namespace}/${name} exists and is not owned by ${owner.kind} ${owner.name}: Weir generates an object of that name; remove the existing one, or rename what the Canary generates (spec.service.name, the target's name)`,
      );
    }
    verified.add(id);
  };
  const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    async apply(obj) {
      guard();
      await checkOwnership(obj);
      return objects.patch(
        obj,
        undefined,
        undefined,
        fieldManager,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    },
    async patchStatus(plural, ref, status, resourceVersion) {
      guard();
      const body = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status };
      const updated = (await custom.patchNamespacedCustomObjectStatus(
        { group, version, plural, namespace: ref.namespace, name: ref.name, body },
        mergePatch,
      )) as k8s.KubernetesObject | undefined;
      return updated?.metadata?.resourceVersion;
    },
    async patchMetadata(plural, ref, metadata) {
      guard();
      await custom.patchNamespacedCustomObject(
        { group, version, plural, namespace: ref.namespace, name: ref.name, body: { metadata } },
        mergePatch,
      );
    },
    async patchJson(resource, ref, operations) {
      guard();
      await custom.patchNamespacedCustomObject(
        { ...resource, namespace: ref.namespace, name: ref.name, body: operations, fieldManager },
        jsonPatch,
      );
    },
    async scaleDeployment(ref, replicas) {
      guard();
      await apps.patchNamespacedDeploymentScale(
        { namespace: ref.namespace, name: ref.name, body: { spec: { replicas } } },
        mergePatch,
      );
    },
    async patchWorkload(kind, ref, patch) {
      guard();
      const request = { namespace: ref.namespace, name: ref.name, body: patch, fieldManager };
      if (kind === 'DaemonSet') await apps.patchNamespacedDaemonSet(request, mergePatch);
      else await apps.patchNamespacedStatefulSet(request, mergePatch);
    },
    async listPods(namespace, labelSelector) {
      return (await core.listNamespacedPod({ namespace, labelSelector })).items;
    },
    async evictPod(ref, uid) {
      guard();
      const body: k8s.V1Eviction = {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: ref.name, namespace: ref.namespace },
        deleteOptions: { preconditions: { uid } },
      };
      try {
        await core.createNamespacedPodEviction({ ...ref, body });
        return true;
      } catch (err) {
        const code = (err as { code?: number }).code;
        // A disruption budget says not now; gone already, or another pod under that name.
        if (code === 429 || code === 404 || code === 409) return false;
        throw err;
      }
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
