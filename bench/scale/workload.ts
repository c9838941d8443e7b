/**
 * The benchmark's objects, as plain manifests: N Deployments and N Canaries
 * spread over namespaces, one MetricTemplate per namespace. The Canary uses only
 * fields Weir and Flagger share, so the same workload measures either.
 */

/** What every Canary of a run has in common. */
export interface WorkloadSpec {
  apiGroup: string;
  apiVersion: string;
  provider: string;
  intervalSeconds: number;
  stepWeight: number;
  maxWeight: number;
  /** Prometheus the MetricTemplates point at. */
  prometheusUrl: string;
  /** Namespace of the Gateway the HTTPRoutes name as parent (it need not exist). */
  gatewayNamespace: string;
}

/** Namespace, name and key of canary `i` of `n`, spread round-robin over `namespaces`. */
export function canaryAt(
  i: number,
  namespaces: number,
): { namespace: string; name: string; key: string } {
  const namespace = `bench-${i % namespaces}`;
  const name = `app-${i}`;
  return { namespace, name, key: `${namespace}/${name}` };
}

/** The namespaces a run of `n` canaries uses. */
export function namespacesFor(n: number, namespaces: number): string[] {
  return Array.from({ length: Math.min(n, namespaces) }, (_, i) => `bench-${i}`);
}

/** Name of the per-namespace MetricTemplate. */
export const templateName = 'success-rate';

/**
 * Success rate of the target's pods from the exporter's request histogram. The
 * pod regex (two generated segments after the name) keeps `app-1` from matching
 * `app-1-primary-…` or `app-10-…`.
 */
export const successRateQuery =
  'sum(rate(http_request_duration_seconds_count{namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+-[0-9a-zA-Z]+", code!~"5.."}[{{ interval }}])) / ' +
  'sum(rate(http_request_duration_seconds_count{namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+-[0-9a-zA-Z]+"}[{{ interval }}])) * 100';

/** The MetricTemplate of one namespace. */
export function metricTemplate(spec: WorkloadSpec, namespace: string): Record<string, unknown> {
  return {
    apiVersion: `${spec.apiGroup}/${spec.apiVersion}`,
    kind: 'MetricTemplate',
    metadata: { name: templateName, namespace },
    spec: {
      provider: { type: 'prometheus', address: spec.prometheusUrl },
      query: successRateQuery,
    },
  };
}

/** The image of generation `generation` of a Deployment. */
export const imageOf = (name: string, generation: number) => `example.test/${name}:${generation}`;

/** A Deployment with one replica, selector `app: name`, container `app`. */
export function deployment(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: imageOf(name, 1), ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
}

/** The Canary for the Deployment of the same name. */
export function canary(
  spec: WorkloadSpec,
  namespace: string,
  name: string,
): Record<string, unknown> {
  return {
    apiVersion: `${spec.apiGroup}/${spec.apiVersion}`,
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      provider: spec.provider,
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      progressDeadlineSeconds: 600,
      service: {
        port: 80,
        targetPort: 8080,
        gatewayRefs: [{ name: 'public', namespace: spec.gatewayNamespace }],
      },
      analysis: {
        interval: `${spec.intervalSeconds}s`,
        threshold: 5,
        stepWeight: spec.stepWeight,
        maxWeight: spec.maxWeight,
        metrics: [
          {
            name: 'success-rate',
            templateRef: { name: templateName, namespace },
            thresholdRange: { min: 95 },
            interval: '1m',
          },
        ],
      },
    },
  };
}

/** Fake pod names the exporter serves for canary `name`: its own pod and its primary's. */
export function podsOf(name: string): { canary: string; primary: string } {
  return { canary: `${name}-7d9f8c6b5-x2k4p`, primary: `${name}-primary-5c8d7f9b4-q7w2e` };
}
