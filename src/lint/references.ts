import { allowsNamespace } from '../api/allowed-namespaces.js';
import type { Canary } from '../api/types.js';
import { splitPoints, type UserRoute } from '../routers/gateway-api-user-route.js';
import type { SourceDocument } from './yaml-source.js';
import type { Violation } from './validate.js';

interface Found {
  doc: SourceDocument;
  violation: Violation;
}

interface Indexed {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
}

function meta(doc: SourceDocument): Indexed | undefined {
  const v = doc.value as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  if (typeof v?.kind !== 'string' || typeof v.metadata?.name !== 'string') return undefined;
  const ns = v.metadata.namespace;
  return {
    apiVersion: typeof v.apiVersion === 'string' ? v.apiVersion : '',
    kind: v.kind,
    name: v.metadata.name,
    namespace: typeof ns === 'string' ? ns : undefined,
  };
}

interface Ref {
  name?: unknown;
  namespace?: unknown;
  kind?: unknown;
}

/** The parts of a Canary spec that name other objects. */
interface CanaryRefs {
  targetRef?: Ref;
  autoscalerRef?: Ref;
  ingressRef?: Ref;
  routeRef?: Ref;
  service?: { gatewayRefs?: Ref[]; routeRef?: Ref };
  analysis?: { metrics?: { templateRef?: Ref }[]; alerts?: { providerRef?: Ref }[] };
}

const key = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ''}/${name}`;

/**
 * Checks that what each Canary names exists among the scanned files: the target
 * Deployment, MetricTemplates, AlertProviders, Gateways, the autoscaler and the
 * Ingress. A reference that is not found may live in the cluster or another
 * repository, so it is a warning, never an error; lint never fetches anything.
 * A MetricTemplate or AlertProvider found in another namespace that does not
 * list the Canary's in `spec.allowedNamespaces` is a warning too: the
 * controller refuses it (unless the object changes in the cluster).
 */
export function checkReferences(docs: SourceDocument[]): Found[] {
  const index = new Map<string, SourceDocument>();
  for (const doc of docs) {
    const m = meta(doc);
    if (m) index.set(key(m.kind, m.namespace, m.name), doc);
  }
  const found: Found[] = [];
  const replicasWarned = new Set<SourceDocument>();
  for (const doc of docs) {
    const m = meta(doc);
    if (!m || m.kind !== 'Canary' || m.apiVersion !== 'weir.dev/v1alpha1') continue;
    const spec = (doc.value as { spec?: CanaryRefs }).spec ?? {};
    const expect = (
      path: string,
      kind: string,
      name: unknown,
      namespace: unknown = m.namespace,
    ) => {
      if (typeof name !== 'string') return;
      const ns = typeof namespace === 'string' ? namespace : m.namespace;
      const where = ns ? `${ns}/${name}` : name;
      const target = index.get(key(kind, ns, name));
      if (target) {
        const allowed = (target.value as { spec?: { allowedNamespaces?: unknown } }).spec
          ?.allowedNamespaces;
        if (
          (kind === 'MetricTemplate' || kind === 'AlertProvider') &&
          m.namespace !== undefined &&
          ns !== undefined &&
          !allowsNamespace(ns, Array.isArray(allowed) ? (allowed as string[]) : [], m.namespace)
        ) {
          found.push({
            doc,
            violation: {
              path,
              severity: 'warning',
              message: `${kind} ${where} does not list namespace ${m.namespace} in spec.allowedNamespaces: the controller will refuse this reference`,
            },
          });
        }
        return;
      }
      found.push({
        doc,
        violation: {
          path,
          severity: 'warning',
          message: `${kind} ${where} is not in the scanned files (it must exist in the cluster)`,
        },
      });
    };
    // The schema pass reports a kind Weir cannot release; look the target up by the kind named.
    const named = spec.targetRef?.kind;
    // A Knative Service is indexed by kind as any Service: its name is what lint can check.
    const targetKind =
      named === 'DaemonSet' || named === 'StatefulSet' || named === 'Service'
        ? named
        : 'Deployment';
    expect('spec.targetRef.name', targetKind, spec.targetRef?.name);
    const targetDoc =
      typeof spec.targetRef?.name === 'string'
        ? index.get(key(targetKind, m.namespace, spec.targetRef.name))
        : undefined;
    const declared = (targetDoc?.value as { spec?: { replicas?: unknown } } | undefined)?.spec;
    if (targetKind === 'StatefulSet' && targetDoc) found.push(...statefulSetFindings(targetDoc));
    if (
      targetDoc &&
      targetKind === 'Deployment' &&
      declared?.replicas !== undefined &&
      !spec.autoscalerRef &&
      !replicasWarned.has(targetDoc)
    ) {
      replicasWarned.add(targetDoc);
      found.push({
        doc: targetDoc,
        violation: {
          path: 'spec.replicas',
          severity: 'warning',
          message: `Canary ${m.namespace ?? ''}/${m.name} releases this Deployment: with replicas declared here, a GitOps agent sets them back after each release, so Weir leaves the idle Deployment running instead of scaling it to zero; remove spec.replicas (the primary keeps its count) or use an autoscalerRef`,
        },
      });
    }
    if (spec.autoscalerRef) {
      const kind =
        typeof spec.autoscalerRef.kind === 'string'
          ? spec.autoscalerRef.kind
          : 'HorizontalPodAutoscaler';
      expect('spec.autoscalerRef.name', kind, spec.autoscalerRef.name);
    }
    if (spec.ingressRef) expect('spec.ingressRef.name', 'Ingress', spec.ingressRef.name);
    if (spec.routeRef) expect('spec.routeRef.name', 'ApisixRoute', spec.routeRef.name);
    (spec.service?.gatewayRefs ?? []).forEach((g, i) => {
      if (g.kind === undefined || g.kind === 'Gateway')
        expect(`spec.service.gatewayRefs[${i}].name`, 'Gateway', g.name, g.namespace);
    });
    const routeName = spec.service?.routeRef?.name;
    expect('spec.service.routeRef.name', 'HTTPRoute', routeName);
    const routeDoc =
      typeof routeName === 'string'
        ? index.get(key('HTTPRoute', m.namespace, routeName))
        : undefined;
    if (routeDoc && typeof spec.targetRef?.name === 'string') {
      // The controller would block the Canary on a route it cannot split: say so in the route.
      const points = splitPoints(routeDoc.value as UserRoute, doc.value as Canary);
      if ('error' in points)
        found.push({
          doc: routeDoc,
          violation: { path: 'spec.rules', severity: 'error', message: points.error },
        });
    }
    (spec.analysis?.metrics ?? []).forEach((metric, i) => {
      if (metric.templateRef)
        expect(
          `spec.analysis.metrics[${i}].templateRef.name`,
          'MetricTemplate',
          metric.templateRef.name,
          metric.templateRef.namespace,
        );
    });
    (spec.analysis?.alerts ?? []).forEach((alert, i) => {
      expect(
        `spec.analysis.alerts[${i}].providerRef.name`,
        'AlertProvider',
        alert.providerRef?.name,
        alert.providerRef?.namespace,
      );
    });
    const targetName = spec.targetRef?.name;
    const target =
      typeof targetName === 'string'
        ? index.get(key(targetKind, m.namespace, targetName))
        : undefined;
    const labels = (
      target?.value as
        { spec?: { selector?: { matchLabels?: Record<string, string> } } } | undefined
    )?.spec?.selector?.matchLabels;
    if (target && (!labels || Object.keys(labels).length === 0)) {
      found.push({
        doc,
        violation: {
          path: 'spec.targetRef.name',
          severity: 'error',
          message: `${targetKind} ${String(targetName)} has no spec.selector.matchLabels; Weir needs a selector label to split primary and canary pods`,
        },
      });
    }
  }
  return found;
}

/**
 * What a StatefulSet that a Canary releases must not declare (ADR 0019): an update
 * strategy other than RollingUpdate (the controller refuses it), or a partition,
 * which the GitOps agent would put back over the one Weir holds.
 */
function statefulSetFindings(doc: SourceDocument): Found[] {
  const strategy = (
    doc.value as {
      spec?: { updateStrategy?: { type?: unknown; rollingUpdate?: { partition?: unknown } } };
    }
  ).spec?.updateStrategy;
  if (strategy?.type !== undefined && strategy.type !== 'RollingUpdate')
    return [
      {
        doc,
        violation: {
          path: 'spec.updateStrategy.type',
          severity: 'error',
          message: `a Canary releases this StatefulSet by its update partition, which only holds pods back under RollingUpdate: use RollingUpdate`,
        },
      },
    ];
  if (strategy?.rollingUpdate?.partition !== undefined)
    return [
      {
        doc,
        violation: {
          path: 'spec.updateStrategy.rollingUpdate.partition',
          severity: 'warning',
          message: `a Canary releases this StatefulSet by its update partition: declared here, a GitOps agent puts it back after every step Weir takes; remove it`,
        },
      },
    ];
  return [];
}
