import type { QueryModel } from './query-template.js';

/** The metrics Weir knows without a MetricTemplate. */
export const builtinMetrics = ['request-success-rate', 'request-duration'] as const;
export type BuiltinMetric = (typeof builtinMetrics)[number];

export const isBuiltin = (name: string): name is BuiltinMetric =>
  (builtinMetrics as readonly string[]).includes(name);

/** Unit shown with a built-in's value. */
export const builtinUnits: Record<BuiltinMetric, string> = {
  'request-success-rate': '%',
  'request-duration': 'ms',
};

/** Where a router's request telemetry comes from; see docs/metrics.md. */
export type TelemetrySource =
  | 'app'
  | 'pods'
  | 'istio'
  | 'linkerd'
  | 'nginx'
  | 'contour'
  | 'traefik'
  | 'skipper'
  | 'apisix'
  | 'kuma'
  | 'knative';

/**
 * The telemetry each router's built-ins read. Gateway API reads the workload's own
 * metrics: Envoy Gateway puts all backends of a route rule into one Envoy cluster,
 * so gateway statistics cannot tell the canary from the primary.
 */
export const telemetryOf: Record<string, TelemetrySource> = {
  kubernetes: 'app',
  gatewayapi: 'app',
  istio: 'istio',
  linkerd: 'linkerd',
  smi: 'linkerd',
  nginx: 'nginx',
  contour: 'contour',
  traefik: 'traefik',
  skipper: 'skipper',
  apisix: 'apisix',
  kuma: 'kuma',
  knative: 'knative',
  // Not a provider: a StatefulSet target's telemetry (its own pods, by name).
  statefulset: 'pods',
};

// 5xx filters on the app's own histogram: whichever of code / status / status_code it uses
// (a matcher on a label a series lacks compares against "", which never matches 5..).
const appSelector = `namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`;
const app5xx = `code!~"5..", status!~"5..", status_code!~"5.."`;
const istioSelector = `reporter="destination", destination_workload_namespace="{{ namespace }}", destination_workload="{{ target }}"`;
const linkerdSelector = `namespace="{{ namespace }}", deployment="{{ target }}", direction="inbound"`;
// ingress-nginx merges the canary Ingress into the locations of the user's Ingress: every request
// carries that Ingress and its Service (the apex) as labels, and `canary` names the canary upstream
// when the canary answered (empty otherwise). So the role decides the selector, not {{ backend }}.
const nginxBase = `namespace="{{ namespace }}", ingress="{{ ingress }}", service="{{ service }}"`;
const nginxSelector = {
  canary: `${nginxBase}, canary!=""`,
  primary: `${nginxBase}, canary=""`,
} as const;
const contourSelector = `envoy_cluster_name=~"{{ namespace }}_{{ backend }}_[0-9a-zA-Z-]+"`;
const traefikSelector = `service=~"{{ namespace }}-{{ backend }}-[0-9a-zA-Z-]+@kubernetescrd"`;
// APISIX's prometheus plugin (with prefer_name) labels requests with the APISIX route name,
// `<namespace>_<ApisixRoute>_<http entry>`. Its labels cannot tell the two backends of the canary
// route apart, so, as in Flagger, both roles measure the whole canary route `<route>-<apex>-canary`.
const apisixSelector = `route=~"{{ namespace }}_{{ route }}-{{ service }}-canary_.+"`;
// Kuma's Prometheus discovery labels a dataplane's metrics with its Kuma service
// (`<Service>_<namespace>_svc_<port>`) as `service`, which Flagger's queries select on.
// A StatefulSet's canary and stable pods are told apart by name (ADR 0019).
const podsSelector = `namespace="{{ namespace }}", pod=~"{{ pods }}"`;
// Knative's Kourier ingress names an Envoy cluster `<namespace>/<revision>`, as Flagger's queries select.
const knativeSelector = `envoy_cluster_name=~"{{ namespace }}/{{ revision }}"`;
const kumaSelector = `service=~"{{ backend }}_{{ namespace }}_svc_[0-9]+"`;
// Skipper names an Ingress route kube[ew]_<namespace>__<ingress>__<host>__<path>__<backend> with
// every non-word character as `_` (names come through skipperModel), plus `_<n>` per weighted
// backend. The canary Ingress holds both backends, so the role's Service selects the side.
const skipperSelector = `route=~"kube(ew)?_{{ namespace }}__{{ ingress }}_canary__.*__{{ backend }}(_[0-9]+)?"`;

const ratio = (metric: string, selector: string, ok: string) =>
  `sum(rate(${metric}{${selector}, ${ok}}[{{ interval }}])) / sum(rate(${metric}{${selector}}[{{ interval }}])) * 100`;
const p99 = (bucket: string, selector: string, toMs: string) =>
  `histogram_quantile(0.99, sum by (le) (rate(${bucket}{${selector}}[{{ interval }}])))${toMs}`;

/** Whose traffic a query measures. */
export type QueryRole = 'canary' | 'primary';

/**
 * PromQL templates per telemetry source; rendered with the canary's or the primary's
 * names. A function gives a different template per role, where names alone cannot tell.
 */
const queries: Record<
  TelemetrySource,
  Record<BuiltinMetric, string | ((role: QueryRole) => string)>
> = {
  app: {
    'request-success-rate': ratio('http_request_duration_seconds_count', appSelector, app5xx),
    'request-duration': p99('http_request_duration_seconds_bucket', appSelector, ' * 1000'),
  },
  pods: {
    'request-success-rate': ratio('http_request_duration_seconds_count', podsSelector, app5xx),
    'request-duration': p99('http_request_duration_seconds_bucket', podsSelector, ' * 1000'),
  },
  knative: {
    'request-success-rate': ratio(
      'envoy_cluster_upstream_rq',
      knativeSelector,
      'envoy_response_code!~"5.."',
    ),
    'request-duration': p99('envoy_cluster_upstream_rq_time_bucket', knativeSelector, ''),
  },
  istio: {
    'request-success-rate': ratio('istio_requests_total', istioSelector, 'response_code!~"5.."'),
    'request-duration': p99('istio_request_duration_milliseconds_bucket', istioSelector, ''),
  },
  linkerd: {
    'request-success-rate': ratio('response_total', linkerdSelector, 'classification!="failure"'),
    'request-duration': p99('response_latency_ms_bucket', linkerdSelector, ''),
  },
  nginx: {
    'request-success-rate': (role) =>
      ratio('nginx_ingress_controller_requests', nginxSelector[role], 'status!~"5.."'),
    'request-duration': (role) =>
      p99(
        'nginx_ingress_controller_request_duration_seconds_bucket',
        nginxSelector[role],
        ' * 1000',
      ),
  },
  contour: {
    'request-success-rate': ratio(
      'envoy_cluster_upstream_rq',
      contourSelector,
      'envoy_response_code!~"5.."',
    ),
    'request-duration': p99('envoy_cluster_upstream_rq_time_bucket', contourSelector, ''),
  },
  traefik: {
    'request-success-rate': ratio('traefik_service_requests_total', traefikSelector, 'code!~"5.."'),
    'request-duration': p99(
      'traefik_service_request_duration_seconds_bucket',
      traefikSelector,
      ' * 1000',
    ),
  },
  apisix: {
    'request-success-rate': ratio('apisix_http_status', apisixSelector, 'code!~"5.."'),
    'request-duration': p99('apisix_http_latency_bucket', `type="request", ${apisixSelector}`, ''),
  },
  kuma: {
    'request-success-rate': ratio(
      'envoy_cluster_upstream_rq',
      kumaSelector,
      'envoy_response_code!~"5.."',
    ),
    'request-duration': p99('envoy_cluster_upstream_rq_time_bucket', kumaSelector, ''),
  },
  skipper: {
    // As in Flagger: the response histogram (-route-response-metrics) has the status code, the
    // serve-route one (-serve-route-metrics) the time spent serving the route.
    'request-success-rate': ratio(
      'skipper_response_duration_seconds_count',
      skipperSelector,
      'code!~"5.."',
    ),
    'request-duration': p99(
      'skipper_serve_route_duration_seconds_bucket',
      skipperSelector,
      ' * 1000',
    ),
  },
};

/** The query template of a built-in metric for a router and role, or an error message. */
export function builtinQuery(
  provider: string,
  metric: BuiltinMetric,
  role: QueryRole = 'canary',
): string | { error: string } {
  const router = provider.split(':')[0]!;
  const source = telemetryOf[router];
  if (!source)
    return {
      error: `built-in metric ${metric} has no query for router ${router}: use a MetricTemplate`,
    };
  const query = queries[source][metric];
  return typeof query === 'string' ? query : query(role);
}

/**
 * The names a built-in query of `provider` is rendered with. Skipper writes route
 * names with every non-word character as `_` (as Flagger's Skipper observer
 * encodes them), so its names are encoded alike; every other router's are as they are.
 */
export function builtinModel(provider: string, model: QueryModel): QueryModel {
  if (telemetryOf[provider.split(':')[0]!] !== 'skipper') return model;
  const word = (s: string) => s.replace(/\W/g, '_');
  return {
    ...model,
    name: word(model.name),
    namespace: word(model.namespace),
    target: word(model.target),
    service: word(model.service),
    backend: word(model.backend),
    ingress: word(model.ingress),
  };
}
