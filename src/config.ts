import { parseArgs } from 'node:util';
import { invalidConfig } from './errors.js';
import { parseCidr } from './util/egress.js';

/** A host and port to listen on. Port 0 asks the kernel for a free one. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The controller's configuration, from flags and environment. */
export interface ControllerConfig {
  /** Path of a kubeconfig; unset means in-cluster or the default loading rules. */
  kubeconfig?: string;
  /** Where `/metrics` is served. */
  metricsAddress: ListenAddress;
  /** Where `/healthz` and `/readyz` are served. */
  probeAddress: ListenAddress;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** Only watch this namespace; unset watches all. */
  watchNamespace?: string;
  /** Router for Canaries that name none. */
  provider: string;
  /** Canaries reconciled at once. */
  concurrency: number;
  /** Prometheus for built-in metrics, and for MetricTemplates without an address. */
  metricsServer?: string;
  /**
   * Whether Canaries may reference MetricTemplates and AlertProviders in other
   * namespaces at all; when true, only those that list the Canary's namespace in
   * `spec.allowedNamespaces`.
   */
  crossNamespaceRefs: boolean;
  /** Whether a metric's inline `query` (PromQL written by the Canary's author) runs. */
  allowInlineQueries: boolean;
  /** Whether a MetricTemplate without an address may send headers to `--metrics-server`. */
  allowMetricsServerHeaders: boolean;
  /** Whether Knative Services are watched, so that Canaries can target them (ADR 0020). */
  knative: boolean;
  /** Whether StatefulSets are watched and their pods deleted on rollback (ADR 0019). */
  statefulSets: boolean;
  /** AlertProvider for Canaries without `alerts`. */
  alertProvider?: { namespace: string; name: string };
  /** Lease-based leader election: only the leader reconciles; standbys keep warm caches. */
  leaderElection?: { namespace: string; name: string };
  /** Shard: only Canaries matching this label selector. */
  labelSelector?: string;
  /**
   * Where webhooks, notifications and metric queries may not go, beyond the link-local and
   * metadata addresses that are always denied (see `src/util/egress.ts`).
   */
  egress: { denyCidrs: string[]; denyPrivate: boolean };
  /** Bytes of one Prometheus answer read at most. */
  maxMetricsResponseBytes: number;
}

/** Bounds of `--max-metrics-response-bytes`: 1 KiB to 64 MiB (the heap is 256 MiB by default). */
const metricsResponseBytes = { min: 1024, max: 64 * 1024 * 1024, default: 4 * 1024 * 1024 };

const logLevels = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Usage text for `--help`. */
export const usage = `Usage: weir-controller [flags]

Flags (each also read from the environment variable shown):
  --kubeconfig PATH                 kubeconfig to use (KUBECONFIG); default: in-cluster
  --metrics-bind-address HOST:PORT  serve /metrics here (WEIR_METRICS_BIND_ADDRESS); default :8080
  --health-probe-bind-address HOST:PORT
                                    serve /healthz and /readyz here (WEIR_HEALTH_PROBE_BIND_ADDRESS); default :8081
  --log-level LEVEL                 trace|debug|info|warn|error (WEIR_LOG_LEVEL); default info
  --watch-namespace NS              only watch this namespace (WEIR_WATCH_NAMESPACE); default all
  --provider NAME                   router for Canaries that name none (WEIR_PROVIDER); default gatewayapi
  --concurrency N                   Canaries reconciled at once (WEIR_CONCURRENCY); default 32
  --metrics-server URL              Prometheus for built-in metrics and MetricTemplates without an address
                                    (WEIR_METRICS_SERVER), e.g. http://prometheus.monitoring:9090
  --leader-elect                    elect a leader through a Lease; others stand by (WEIR_LEADER_ELECT=true)
  --leader-election-namespace NS    namespace of the Lease (WEIR_LEADER_ELECTION_NAMESPACE, else POD_NAMESPACE)
  --leader-election-id NAME         name of the Lease (WEIR_LEADER_ELECTION_ID); default weir-controller
  --label-selector SELECTOR         only Canaries matching it, e.g. shard=a (WEIR_LABEL_SELECTOR)
  --alert-provider NS/NAME          AlertProvider for Canaries without alerts (WEIR_ALERT_PROVIDER)
  --no-cross-namespace-refs         forbid MetricTemplate/AlertProvider references to other namespaces, even
                                    to those that allow them in spec.allowedNamespaces
                                    (WEIR_NO_CROSS_NAMESPACE_REFS=true)
  --egress-deny-cidrs LIST          comma-separated CIDRs that webhooks, notifications and metric queries
                                    may not reach, e.g. 127.0.0.0/8,10.96.0.1/32 (WEIR_EGRESS_DENY_CIDRS);
                                    link-local and metadata addresses are always denied
  --egress-deny-private             also deny 10/8, 172.16/12, 192.168/16, 100.64/10 and fc00::/7
                                    (WEIR_EGRESS_DENY_PRIVATE=true); --metrics-server stays reachable
  --max-metrics-response-bytes N    bytes of one Prometheus answer read at most (WEIR_MAX_METRICS_RESPONSE_BYTES);
                                    default 4194304 (4 MiB), from 1024 to 67108864
  --statefulsets                    watch StatefulSets, so that Canaries can target them; a rollback
                                    evicts their updated pods (RBAC: pods list, pods/eviction create); default off
                                    (WEIR_STATEFULSETS=true)
  --knative                         watch Knative Services (serving.knative.dev/v1), so that Canaries can
                                    target them; default off (WEIR_KNATIVE=true)
  --allow-inline-queries            run metrics' inline query (PromQL from the Canary) as Flagger does;
                                    default off: use MetricTemplates (WEIR_ALLOW_INLINE_QUERIES=true)
  --allow-metrics-server-headers    let MetricTemplates without an address send their headers (and
                                    Secret headers.*) to --metrics-server (WEIR_ALLOW_METRICS_SERVER_HEADERS=true)
  --help                            print this text
`;

/** Parses `host:port` (host may be empty, meaning all interfaces). */
export function parseListenAddress(value: string, flag: string): ListenAddress {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidConfig(`${flag}: expected HOST:PORT with a port from 0 to 65535, got "${value}"`);
  }
  const host = match[1] === '' ? '0.0.0.0' : match[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/**
 * Reads the configuration from command-line arguments, falling back to the
 * environment. Throws a {@link WeirError} naming the flag and the bad value.
 * Returns `undefined` when `--help` was asked for.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ControllerConfig | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        'metrics-bind-address': { type: 'string' },
        'health-probe-bind-address': { type: 'string' },
        'log-level': { type: 'string' },
        'watch-namespace': { type: 'string' },
        provider: { type: 'string' },
        concurrency: { type: 'string' },
        'metrics-server': { type: 'string' },
        'no-cross-namespace-refs': { type: 'boolean' },
        'allow-inline-queries': { type: 'boolean' },
        knative: { type: 'boolean' },
        statefulsets: { type: 'boolean' },
        'allow-metrics-server-headers': { type: 'boolean' },
        'alert-provider': { type: 'string' },
        'leader-elect': { type: 'boolean' },
        'leader-election-namespace': { type: 'string' },
        'leader-election-id': { type: 'string' },
        'label-selector': { type: 'string' },
        'egress-deny-cidrs': { type: 'string' },
        'egress-deny-private': { type: 'boolean' },
        'max-metrics-response-bytes': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw invalidConfig(`${(err as Error).message}\n\n${usage}`);
  }
  if (values.help) return undefined;
  const logLevel = values['log-level'] ?? env.WEIR_LOG_LEVEL ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw invalidConfig(`--log-level: expected one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  const watchNamespace = values['watch-namespace'] ?? env.WEIR_WATCH_NAMESPACE;
  if (
    watchNamespace !== undefined &&
    !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(watchNamespace)
  ) {
    throw invalidConfig(`--watch-namespace: "${watchNamespace}" is not a valid namespace name`);
  }
  const kubeconfig = values.kubeconfig ?? env.KUBECONFIG;
  const provider = values.provider ?? env.WEIR_PROVIDER ?? 'gatewayapi';
  if (!/^[a-z0-9-]+(:[a-z0-9]+)?$/.test(provider)) {
    throw invalidConfig(
      `--provider: "${provider}" is not a provider name such as gatewayapi or kubernetes`,
    );
  }
  const concurrencyText = values.concurrency ?? env.WEIR_CONCURRENCY ?? '32';
  const concurrency = Number(concurrencyText);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw invalidConfig(
      `--concurrency: expected a whole number from 1 to 256, got "${concurrencyText}"`,
    );
  }
  const metricsServer = values['metrics-server'] ?? env.WEIR_METRICS_SERVER;
  if (metricsServer !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(metricsServer);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      throw invalidConfig(
        `--metrics-server: expected an http(s) URL such as http://prometheus.monitoring:9090, got "${metricsServer}"`,
      );
    }
  }
  const noCross =
    values['no-cross-namespace-refs'] ??
    parseBool(env.WEIR_NO_CROSS_NAMESPACE_REFS, 'WEIR_NO_CROSS_NAMESPACE_REFS');
  const allowInlineQueries =
    values['allow-inline-queries'] ??
    parseBool(env.WEIR_ALLOW_INLINE_QUERIES, 'WEIR_ALLOW_INLINE_QUERIES');
  const knative = values.knative ?? parseBool(env.WEIR_KNATIVE, 'WEIR_KNATIVE');
  const statefulSets = values.statefulsets ?? parseBool(env.WEIR_STATEFULSETS, 'WEIR_STATEFULSETS');
  const allowMetricsServerHeaders =
    values['allow-metrics-server-headers'] ??
    parseBool(env.WEIR_ALLOW_METRICS_SERVER_HEADERS, 'WEIR_ALLOW_METRICS_SERVER_HEADERS');
  const alertProviderText = values['alert-provider'] ?? env.WEIR_ALERT_PROVIDER;
  const alertMatch = alertProviderText
    ? /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(
        alertProviderText,
      )
    : undefined;
  if (alertProviderText && !alertMatch) {
    throw invalidConfig(
      `--alert-provider: expected NAMESPACE/NAME of an AlertProvider, got "${alertProviderText}"`,
    );
  }
  const leaderElect =
    values['leader-elect'] ?? parseBool(env.WEIR_LEADER_ELECT, 'WEIR_LEADER_ELECT');
  let leaderElection: ControllerConfig['leaderElection'];
  if (leaderElect) {
    const ns =
      values['leader-election-namespace'] ??
      env.WEIR_LEADER_ELECTION_NAMESPACE ??
      env.POD_NAMESPACE;
    if (!ns || !dnsLabel.test(ns)) {
      throw invalidConfig(
        `--leader-election-namespace: ${ns ? `"${ns}" is not a valid namespace name` : 'required with --leader-elect (or set POD_NAMESPACE)'}`,
      );
    }
    const id = values['leader-election-id'] ?? env.WEIR_LEADER_ELECTION_ID ?? 'weir-controller';
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(id))
      throw invalidConfig(`--leader-election-id: "${id}" is not a valid Lease name`);
    leaderElection = { namespace: ns, name: id };
  }
  const labelSelector = values['label-selector'] ?? env.WEIR_LABEL_SELECTOR;
  if (labelSelector !== undefined && !/^[A-Za-z0-9._/,=!()\s-]+$/.test(labelSelector)) {
    throw invalidConfig(
      `--label-selector: "${labelSelector}" is not a label selector such as shard=a`,
    );
  }
  const denyCidrs = (values['egress-deny-cidrs'] ?? env.WEIR_EGRESS_DENY_CIDRS ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const badCidr = denyCidrs.find((c) => !parseCidr(c));
  if (badCidr !== undefined) {
    throw invalidConfig(
      `--egress-deny-cidrs: "${badCidr}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`,
    );
  }
  const denyPrivate =
    values['egress-deny-private'] ??
    parseBool(env.WEIR_EGRESS_DENY_PRIVATE, 'WEIR_EGRESS_DENY_PRIVATE');
  const maxBytesText =
    values['max-metrics-response-bytes'] ??
    env.WEIR_MAX_METRICS_RESPONSE_BYTES ??
    String(metricsResponseBytes.default);
  const maxMetricsResponseBytes = Number(maxBytesText);
  if (
    !/^\d+$/.test(maxBytesText) ||
    maxMetricsResponseBytes < metricsResponseBytes.min ||
    maxMetricsResponseBytes > metricsResponseBytes.max
  ) {
    throw invalidConfig(
      `--max-metrics-response-bytes: expected a number of bytes from ${metricsResponseBytes.min} to ${metricsResponseBytes.max}, got "${maxBytesText}"`,
    );
  }
  return {
    provider,
    concurrency,
    egress: { denyCidrs, denyPrivate },
    maxMetricsResponseBytes,
    ...(leaderElection ? { leaderElection } : {}),
    ...(labelSelector ? { labelSelector } : {}),
    ...(alertMatch ? { alertProvider: { namespace: alertMatch[1]!, name: alertMatch[3]! } } : {}),
    crossNamespaceRefs: !noCross,
    allowInlineQueries,
    allowMetricsServerHeaders,
    knative,
    statefulSets,
    ...(metricsServer ? { metricsServer } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(watchNamespace ? { watchNamespace } : {}),
    metricsAddress: parseListenAddress(
      values['metrics-bind-address'] ?? env.WEIR_METRICS_BIND_ADDRESS ?? ':8080',
      '--metrics-bind-address',
    ),
    probeAddress: parseListenAddress(
      values['health-probe-bind-address'] ?? env.WEIR_HEALTH_PROBE_BIND_ADDRESS ?? ':8081',
      '--health-probe-bind-address',
    ),
    logLevel: logLevel as ControllerConfig['logLevel'],
  };
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw invalidConfig(`${name}: expected true or false, got "${value}"`);
}
