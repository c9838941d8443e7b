import * as k8s from '@kubernetes/client-node';
import type { KnativeService, KnativeTrafficTarget } from '../../src/workloads/knative.js';

/*
 * What Knative Serving's controller reports on a Service, for tests on a control plane
 * that runs no Knative (its controller needs a networking layer and real pods). The
 * Service is Knative's real CRD; this stand-in writes only its documented status: a
 * new Revision `<name>-0000n` per changed template (`latestCreatedRevisionName`), made
 * ready unless told not to (`latestReadyRevisionName`), and `status.traffic` resolving
 * `spec.traffic` as Knative does (latestRevision to the newest ready Revision).
 */

const group = 'serving.knative.dev';
const version = 'v1';
const plural = 'services';

/** A Knative controller stand-in for the Services of one namespace. */
export interface KnativeStandIn {
  /** Revisions that never become ready (their names). */
  neverReady: Set<string>;
  stop(): Promise<void>;
}

/** Starts following the namespace's Knative Services every `everyMs` (real time). */
export function startKnativeStandIn(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  everyMs = 100,
): KnativeStandIn {
  const neverReady = new Set<string>();
  // Per Service: the template last turned into a Revision, and how many there are.
  const seen = new Map<string, { template: string; count: number }>();
  let stopped = false;
  const tick = async () => {
    const list = (await custom.listNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
    })) as {
      items: KnativeService[];
    };
    for (const svc of list.items) await reconcile(svc);
  };
  const reconcile = async (svc: KnativeService) => {
    const name = svc.metadata!.name!;
    const template = JSON.stringify(svc.spec?.template ?? {});
    const known = seen.get(name);
    const count = !known ? 1 : known.template === template ? known.count : known.count + 1;
    seen.set(name, { template, count });
    const created = `${name}-${String(count).padStart(5, '0')}`;
    const previous = svc.status?.latestReadyRevisionName;
    const ready = neverReady.has(created) ? previous : created;
    const resolve = (t: KnativeTrafficTarget): KnativeTrafficTarget => ({
      revisionName: t.latestRevision ? ready : t.revisionName,
      percent: t.percent ?? 0,
      ...(t.latestRevision ? { latestRevision: true } : { latestRevision: false }),
    });
    const status: KnativeService['status'] = {
      observedGeneration: svc.metadata!.generation ?? 0,
      latestCreatedRevisionName: created,
      ...(ready ? { latestReadyRevisionName: ready } : {}),
      traffic: (svc.spec?.traffic ?? [{ latestRevision: true, percent: 100 }]).map(resolve),
      conditions: [{ type: 'Ready', status: ready === created ? 'True' : 'Unknown' }],
    };
    if (JSON.stringify(status) === JSON.stringify(svc.status)) return;
    await custom.patchNamespacedCustomObjectStatus(
      { group, version, namespace, plural, name, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    neverReady,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
