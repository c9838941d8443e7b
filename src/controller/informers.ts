import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AlertProvider, Canary, CanaryRun, MetricTemplate } from '../api/types.js';
import {
  createInformer,
  deploymentKind,
  scopedPath,
  weirKind,
  type ResilientInformer,
} from '../kube/informer.js';
import { controllerKubeConfig } from '../kube/kube-config.js';
import { canaryLabel } from '../workloads/generated.js';
import { knativeResource, type KnativeService } from '../workloads/knative.js';
import { trimEndedRun } from './canary-runs.js';

/** Every watch the controller keeps, by what it watches. */
export interface Informers {
  canaries: ResilientInformer<Canary>;
  runs: ResilientInformer<CanaryRun>;
  deployments: ResilientInformer<k8s.V1Deployment>;
  daemonSets: ResilientInformer<k8s.V1DaemonSet>;
  /** StatefulSets, with `--statefulsets` only (ADR 0019). */
  statefulSets?: ResilientInformer<k8s.V1StatefulSet>;
  /** Knative Services, with `--knative` only (ADR 0020). */
  knativeServices?: ResilientInformer<KnativeService>;
  templates: ResilientInformer<MetricTemplate>;
  alertProviders: ResilientInformer<AlertProvider>;
  configMaps: ResilientInformer<k8s.V1ConfigMap>;
  /** Metadata only: the cache keeps no Secret's contents. */
  secrets: ResilientInformer<k8s.V1Secret>;
}

/** The informers as a list, for what is done to each alike (start, stop, synced). */
export function allInformers(informers: Informers): ResilientInformer<k8s.KubernetesObject>[] {
  return Object.values(informers).filter(Boolean) as ResilientInformer<k8s.KubernetesObject>[];
}

/** Options for {@link createInformers}. */
export interface InformerScope {
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  registry: Registry;
  /** Only this namespace; all when unset. */
  namespace?: string;
  /** Only Canaries with these labels (a shard). */
  labelSelector?: string;
  /** Watch Knative Services too. */
  knative?: boolean;
  /** Watch StatefulSets too. */
  statefulSets?: boolean;
}

/** Builds the controller's informers (not started). */
export function createInformers(scope: InformerScope): Informers {
  const { kubeConfig, logger, namespace: ns, labelSelector } = scope;
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const path = (prefix: string, plural: string) => scopedPath(ns, prefix, plural);
  const weir = (plural: string, selector?: string) => ({
    kubeConfig,
    logger,
    ...weirKind(kubeConfig, ns, plural, selector),
  });

  // Secrets: a metadata-only watch (that one exists or changed, never its contents),
  // and a GET by name for the ones a target, MetricTemplate or AlertProvider names.
  const metadataCore = controllerKubeConfig(kubeConfig, {
    registry: scope.registry,
    metadataOnly: true,
  }).makeApiClient(k8s.CoreV1Api);
  return {
    canaries: createInformer<Canary>({
      ...weir('canaries', labelSelector),
      ...(labelSelector ? { labelSelector } : {}),
    }),
    runs: createInformer<CanaryRun>({
      ...weir('canaryruns'),
      trim: trimEndedRun,
      indexBy: (run) => {
        const canary = run.metadata?.labels?.[canaryLabel];
        return canary === undefined ? undefined : `${run.metadata?.namespace}/${canary}`;
      },
    }),
    deployments: createInformer<k8s.V1Deployment>({
      kubeConfig,
      logger,
      ...deploymentKind(kubeConfig, ns),
    }),
    daemonSets: createInformer<k8s.V1DaemonSet>({
      kubeConfig,
      logger,
      path: path('/apis/apps/v1', 'daemonsets'),
      list: () =>
        ns ? apps.listNamespacedDaemonSet({ namespace: ns }) : apps.listDaemonSetForAllNamespaces(),
    }),
    ...(scope.statefulSets
      ? {
          statefulSets: createInformer<k8s.V1StatefulSet>({
            kubeConfig,
            logger,
            path: path('/apis/apps/v1', 'statefulsets'),
            list: () =>
              ns
                ? apps.listNamespacedStatefulSet({ namespace: ns })
                : apps.listStatefulSetForAllNamespaces(),
          }),
        }
      : {}),
    ...(scope.knative
      ? {
          knativeServices: createInformer<KnativeService>({
            kubeConfig,
            logger,
            path: path(`/apis/${knativeResource.group}/${knativeResource.version}`, 'services'),
            list: () =>
              (ns
                ? custom.listNamespacedCustomObject({ ...knativeResource, namespace: ns })
                : custom.listClusterCustomObject(knativeResource)) as Promise<
                k8s.KubernetesListObject<never>
              >,
          }),
        }
      : {}),
    templates: createInformer<MetricTemplate>(weir('metrictemplates')),
    alertProviders: createInformer<AlertProvider>(weir('alertproviders')),
    configMaps: createInformer<k8s.V1ConfigMap>({
      kubeConfig,
      logger,
      path: path('/api/v1', 'configmaps'),
      list: () =>
        ns ? core.listNamespacedConfigMap({ namespace: ns }) : core.listConfigMapForAllNamespaces(),
    }),
    secrets: createInformer<k8s.V1Secret>({
      kubeConfig: controllerKubeConfig(kubeConfig, { metadataOnly: true }),
      logger,
      path: path('/api/v1', 'secrets'),
      list: () =>
        ns
          ? metadataCore.listNamespacedSecret({ namespace: ns })
          : metadataCore.listSecretForAllNamespaces(),
      // Whatever the server sends, the cache keeps no Secret's contents.
      trim: (s) => {
        delete s.data;
        delete s.stringData;
      },
    }),
  };
}
