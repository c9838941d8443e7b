import type * as k8s from '@kubernetes/client-node';
import { secretData } from '../kube/secrets.js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { allowsNamespace } from '../api/allowed-namespaces.js';
import { credentialSecretProblem } from '../api/credentials.js';
import {
  durationBounds,
  headerNameMaxLength,
  headerNamePattern,
  reservedHeaderNames,
} from '../api/limits.js';
import type { Canary, MetricTemplate } from '../api/types.js';
import type { CheckOutcome, CheckRunner, StepContext } from '../contracts/checks.js';
import { ownProviderOf } from '../routers/target-providers.js';
import { assessMetric, type MetricAssessment } from './assess-metric.js';
import { boundedDurationMs, durationMs } from '../api/durations.js';
import { namesOf } from '../workloads/generated.js';
import { podPattern } from '../workloads/statefulsets.js';
import { builtinModel, builtinQuery, builtinUnits, isBuiltin } from './builtin-queries.js';
import {
  defaultQueryTimeoutMs,
  type MeasureWindow,
  type MetricProvider,
  type ProviderAuth,
  type ProviderConfig,
} from './metric-provider.js';
import type { Measurement, Samples, SampleWindow } from '../contracts/measurement.js';
import type { JudgeRecord } from '../contracts/records.js';
import { judge, judgeOptions, judgeWindow, type Judgement, type JudgeOptions } from './judge.js';
import { cloudWatchAddress, cloudWatchSecretKeys } from './cloudwatch-provider.js';
import { datadogDefaultAddress, datadogHeaders, datadogSecretKeys } from './datadog-provider.js';
import { influxdbSecretKeys } from './influxdb-provider.js';
import {
  parseServiceAccountKey,
  projectProblem,
  stackdriverDefaultAddress,
  stackdriverSecretKeys,
} from './stackdriver-provider.js';
import { dynatraceTokenKey } from './dynatrace-provider.js';
import { newRelicDefaultAddress, newRelicSecretKeys } from './newrelic-provider.js';
import type { MetricProviderRegistry } from './metric-registry.js';
import { QueryTemplateError, renderQuery, type QueryModel } from './query-template.js';

type MetricSpec = NonNullable<Canary['spec']['analysis']['metrics']>[number];

/** Options for {@link MetricChecks}. */
export interface MetricChecksOptions {
  registry: MetricProviderRegistry;
  templates: (namespace: string, name: string) => MetricTemplate | undefined;
  secrets: (namespace: string, name: string) => k8s.V1Secret | undefined;
  /** Makes `secrets(namespace, name)` current (a GET by name); without it `secrets` is read as is. */
  loadSecret?: (namespace: string, name: string) => Promise<void>;
  /** Prometheus for built-in metrics and inline queries (`--metrics-server`). */
  defaultAddress?: string;
  /** Router for Canaries that name none: it selects the built-in queries. */
  defaultProvider: string;
  /**
   * When false, a Canary may only use MetricTemplates of its own namespace. When
   * true, also those of other namespaces that list its namespace in
   * `spec.allowedNamespaces`.
   */
  crossNamespaceRefs: boolean;
  /**
   * Whether a metric's inline `query` runs (`--allow-inline-queries`; default
   * false): it is PromQL chosen by the Canary's author, sent to a Prometheus
   * the controller reaches.
   */
  allowInlineQueries?: boolean;
  /**
   * Whether a MetricTemplate without `provider.address` may send headers (its
   * own or from its Secret) to the shared `--metrics-server`
   * (`--allow-metrics-server-headers`; default false): `X-Scope-OrgID` there
   * picks any tenant of a multi-tenant backend.
   */
  allowMetricsServerHeaders?: boolean;
  metrics: Registry;
  now: () => number;
  /** A provider probe's own deadline (default {@link probeTimeoutMs}); tests shorten it. */
  probeTimeoutMs?: number;
}

/** The judge of a metric: its options, its window, and both queries rendered at its step. */
interface JudgeQueries {
  options: JudgeOptions;
  window: SampleWindow;
  canary: string;
  primary: string;
}

/** A metric resolved to a provider and rendered queries, or why it cannot be. */
type Resolved =
  | {
      spec: MetricSpec;
      provider: MetricProvider;
      canary: string;
      primary?: string;
      unit: string;
      /** The metric's `interval` in seconds: the time range of APIs that take one. */
      windowSeconds: number;
      judge?: JudgeQueries;
    }
  | { spec: MetricSpec; error: string };

/** How long a provider's answer to the pre-release probe is reused. */
const probeTtlMs = 30_000;
/** A probe's own deadline, whatever the provider's query timeout (up to 5 min) says. */
export const probeTimeoutMs = 10_000;
/** Probe answers kept at most: as many as the registry keeps providers. */
const probesKept = 256;

/**
 * Metric analysis: resolves every metric of a Canary to a provider and a query
 * (built-in, inline or from a MetricTemplate), measures the canary (and the
 * primary for relative bounds) in parallel, and judges with {@link assessMetric}.
 */
export class MetricChecks implements CheckRunner {
  private readonly queryDuration: Histogram<'provider' | 'outcome'>;
  private readonly queries: Counter<'provider' | 'outcome'>;
  private readonly probes = new Map<
    MetricProvider,
    { at: number; problem: Promise<string | undefined> }
  >();

  constructor(private readonly options: MetricChecksOptions) {
    this.queryDuration = new Histogram({
      name: 'weir_metric_query_duration_seconds',
      help: 'Time for a metric provider to answer one query.',
      labelNames: ['provider', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [options.metrics],
    });
    this.queries = new Counter({
      name: 'weir_metric_queries_total',
      help: 'Metric queries, by provider and outcome (value, no-data, error).',
      labelNames: ['provider', 'outcome'],
      registers: [options.metrics],
    });
  }

  async run(canary: Canary, context: StepContext): Promise<CheckOutcome> {
    // No traffic has reached the canary yet (Waiting, or the first step): nothing to measure.
    if (!context.measure) return { passed: true, failures: [] };
    const specs = canary.spec.analysis.metrics ?? [];
    await this.loadSecrets(canary);
    const assessed = await Promise.all(
      specs.map((spec) => this.assess(this.resolve(canary, spec, context), context.signal)),
    );
    const said = (a: MetricAssessment) => a.message ?? `${a.name} failed`;
    const failures = assessed.filter((a) => !a.passed && !a.inconclusive).map(said);
    const inconclusive = assessed.filter((a) => a.inconclusive).map(said);
    return {
      passed: failures.length === 0 && inconclusive.length === 0,
      failures,
      ...(inconclusive.length > 0 ? { inconclusive } : {}),
      metrics: assessed,
    };
  }

  /**
   * Before a release: every metric resolves, and every provider answers (each
   * provider is asked at most once per 30 s, however many Canaries use it).
   */
  async preflight(canary: Canary, _signal: AbortSignal): Promise<string | undefined> {
    const problems: string[] = [];
    const seen = new Set<MetricProvider>();
    await this.loadSecrets(canary);
    for (const spec of canary.spec.analysis.metrics ?? []) {
      const r = this.resolve(canary, spec);
      if ('error' in r) problems.push(`${spec.name}: ${r.error}`);
      else seen.add(r.provider);
    }
    // Probes are shared between Canaries and bounded by their own deadline, not by the signal.
    const answers = await Promise.all([...seen].map((p) => this.probe(p)));
    for (const a of answers) if (a) problems.push(a);
    return problems.length > 0 ? [...new Set(problems)].join('; ') : undefined;
  }

  /**
   * One probe per provider per 30 s, shared by every Canary that uses it. It runs under its
   * own deadline rather than one Canary's signal, so a Canary moving on cannot cache a
   * "cancelled" answer for the others, and a provider that hangs is reported after 10 s.
   * Answers are kept for at most {@link probesKept} providers and only while fresh: distinct
   * addresses and header sets are author-controlled, and must not grow memory without bound.
   */
  private probe(provider: MetricProvider): Promise<string | undefined> {
    const now = this.options.now();
    const hit = this.probes.get(provider);
    if (hit && now - hit.at < probeTtlMs) return hit.problem;
    for (const [p, { at }] of this.probes) if (now - at >= probeTtlMs) this.probes.delete(p);
    const timeoutMs = this.options.probeTimeoutMs ?? probeTimeoutMs;
    // The provider ends the probe at timeoutMs and says so; the signal is a backstop a second later.
    const problem = provider.probe(AbortSignal.timeout(timeoutMs + 1_000), timeoutMs);
    this.probes.delete(provider);
    this.probes.set(provider, { at: now, problem });
    while (this.probes.size > probesKept) this.probes.delete(this.probes.keys().next().value!);
    return problem;
  }

  /** Providers with a probe answer kept (tests check the bound). */
  get probesHeld(): number {
    return this.probes.size;
  }

  private async assess(r: Resolved, signal: AbortSignal): Promise<MetricAssessment> {
    const { spec } = r;
    if ('error' in r)
      return { name: spec.name, passed: false, message: `${spec.name}: ${r.error}` };
    if (r.judge) return this.judged(r, r.judge, signal);
    const window = { seconds: r.windowSeconds };
    const [canary, primary] = await Promise.all([
      this.measure(r.provider, r.canary, signal, window),
      r.primary !== undefined ? this.measure(r.provider, r.primary, signal, window) : undefined,
    ]);
    return assessMetric({
      name: spec.name,
      unit: r.unit,
      bounds: boundsOf(spec),
      canary,
      ...(spec.comparePrimary && primary
        ? { compare: { bounds: spec.comparePrimary, primary } }
        : {}),
    });
  }

  /**
   * A metric with a judge: the canary's and the primary's samples over the window, judged
   * against each other; with bounds as well, the canary's value is held to them too. A
   * failure of either fails the check; otherwise the judge's inconclusive holds it.
   */
  private async judged(
    r: Extract<Resolved, { provider: MetricProvider }>,
    j: JudgeQueries,
    signal: AbortSignal,
  ): Promise<MetricAssessment> {
    const { spec, provider } = r;
    const bounds = boundsOf(spec);
    const bounded = bounds.min !== undefined || bounds.max !== undefined;
    const [canary, primary, value] = await Promise.all([
      this.sample(provider, j.canary, j.window, signal),
      this.sample(provider, j.primary, j.window, signal),
      bounded ? this.measure(provider, r.canary, signal, { seconds: r.windowSeconds }) : undefined,
    ]);
    const verdict = judge(spec.name, canary, primary, j.options);
    const record = judgeRecord(verdict, j.options);
    const point = value && assessMetric({ name: spec.name, unit: r.unit, bounds, canary: value });
    if (point && !point.passed && !point.inconclusive)
      return { ...point, judge: record, message: `${point.message}; ${verdict.reason}` };
    const outcome =
      point?.inconclusive && verdict.outcome === 'pass' ? 'inconclusive' : verdict.outcome;
    return {
      name: spec.name,
      ...(point?.value !== undefined ? { value: point.value } : {}),
      ...(point?.min !== undefined ? { min: point.min } : {}),
      ...(point?.max !== undefined ? { max: point.max } : {}),
      passed: outcome === 'pass',
      ...(outcome === 'inconclusive' ? { inconclusive: true } : {}),
      message: point?.inconclusive ? `${point.message}; ${verdict.reason}` : verdict.reason,
      judge: record,
    };
  }

  private async sample(
    provider: MetricProvider,
    query: string,
    window: SampleWindow,
    signal: AbortSignal,
  ): Promise<Samples> {
    if (!provider.samples)
      return {
        kind: 'error',
        reason: `the ${provider.type} provider cannot return samples over a window, which the judge needs`,
      };
    return this.counted(provider, provider.samples(query, window, signal));
  }

  private async measure(
    provider: MetricProvider,
    query: string,
    signal: AbortSignal,
    window: MeasureWindow,
  ): Promise<Measurement> {
    return this.counted(provider, provider.measure(query, signal, window));
  }

  /** A query's answer, timed and counted by provider and outcome (value, samples, no-data, error). */
  private async counted<T extends { kind: string }>(
    provider: MetricProvider,
    answer: Promise<T>,
  ): Promise<T> {
    const end = this.queryDuration.startTimer({ provider: provider.type });
    const a = await answer;
    end({ outcome: a.kind });
    this.queries.inc({ provider: provider.type, outcome: a.kind });
    return a;
  }

  /** The provider and rendered queries of one metric. */
  /** The MetricTemplate `ref` names, if this Canary may use it. */
  private templateOf(
    canary: Canary,
    ref: NonNullable<MetricSpec['templateRef']>,
  ): MetricTemplate | { error: string } {
    const namespace = canary.metadata.namespace!;
    const ns = ref.namespace ?? namespace;
    const where = `MetricTemplate ${ns}/${ref.name}`;
    if (ns !== namespace && !this.options.crossNamespaceRefs)
      return {
        error: `${where} is in another namespace, and this controller forbids cross-namespace references`,
      };
    const mt = this.options.templates(ns, ref.name);
    if (!mt) return { error: `${where} not found` };
    if (!allowsNamespace(ns, mt.spec.allowedNamespaces, namespace))
      return { error: `${where} does not list namespace ${namespace} in spec.allowedNamespaces` };
    return mt;
  }

  /** Reads the Secrets of the MetricTemplates this Canary may use (they are read by name). */
  private async loadSecrets(canary: Canary): Promise<void> {
    const load = this.options.loadSecret;
    if (!load) return;
    const reads: Promise<void>[] = [];
    for (const spec of canary.spec.analysis.metrics ?? []) {
      const mt = spec.templateRef && this.templateOf(canary, spec.templateRef);
      if (mt && !('error' in mt) && mt.spec.provider.secretRef)
        reads.push(load(mt.metadata.namespace!, mt.spec.provider.secretRef.name));
    }
    await Promise.all(reads);
  }

  /**
   * The metric's provider and rendered queries. `pods` are a StatefulSet's at this
   * step; without them (a preflight) its pod placeholders render to no pod.
   */
  private resolve(
    canary: Canary,
    spec: MetricSpec,
    step: Pick<StepContext, 'pods' | 'revisions'> = {},
  ): Resolved {
    const namespace = canary.metadata.namespace!;
    const routedBy = canary.spec.provider ?? ownProviderOf(canary) ?? this.options.defaultProvider;
    // A StatefulSet's built-ins read its pods' own metrics, by name, whatever routes to them.
    const router = canary.spec.targetRef.kind === 'StatefulSet' ? 'statefulset' : routedBy;
    let template: string;
    // Only a built-in may need another template for the primary.
    let primaryTemplate: string | undefined;
    let config: ProviderConfig | { error: string };
    if (spec.templateRef) {
      const mt = this.templateOf(canary, spec.templateRef);
      if ('error' in mt) return { spec, error: mt.error };
      template = mt.spec.query;
      config = this.templateConfig(mt);
    } else if (spec.query) {
      if (!this.options.allowInlineQueries) {
        return {
          spec,
          error:
            'inline queries are turned off on this controller: move the query into a MetricTemplate (or start the controller with --allow-inline-queries)',
        };
      }
      template = spec.query;
      config = this.defaultConfig(canary);
    } else if (isBuiltin(spec.name)) {
      const q = builtinQuery(router, spec.name);
      if (typeof q !== 'string') return { spec, error: q.error };
      template = q;
      const p = builtinQuery(router, spec.name, 'primary');
      if (typeof p === 'string') primaryTemplate = p;
      config = this.defaultConfig(canary);
    } else {
      return { spec, error: 'needs a templateRef or a query' };
    }
    if ('error' in config) return { spec, error: config.error };
    const provider = this.options.registry.provider(config);
    if ('error' in provider) return { spec, error: provider.error };

    const interval = spec.interval ?? '1m';
    const window = windowProblem(interval);
    if (window) return { spec, error: window };
    const names = namesOf(canary);
    const target = canary.spec.targetRef.name;
    const base = {
      name: canary.metadata.name!,
      namespace,
      service: names.apex,
      ingress: canary.spec.ingressRef?.name ?? target,
      route: canary.spec.routeRef?.name ?? target,
      interval,
      variables: spec.templateVariables ?? {},
    };
    const builtin = !spec.templateRef && !spec.query && isBuiltin(spec.name);
    const inPlace = canary.spec.targetRef.kind === 'StatefulSet';
    const stepPods = step.pods ?? {
      canary: podPattern(target, []),
      stable: podPattern(target, []),
    };
    const knative = canary.spec.targetRef.kind === 'Service';
    // Without the step's (a preflight), a Revision name that matches nothing.
    const revisions = step.revisions ?? { canary: `${target}-none`, primary: `${target}-none` };
    const model = (role: QueryModel['role']): QueryModel => {
      const m: QueryModel = {
        ...base,
        role,
        // Without a primary copy (a StatefulSet, a Knative Service) the target is its own
        // primary: its pods or Revisions tell the roles apart.
        target: role === 'canary' || inPlace || knative ? target : names.primary,
        backend: role === 'canary' ? names.apexCanary : names.apexPrimary,
        ...(knative ? { revision: role === 'canary' ? revisions.canary : revisions.primary } : {}),
        ...(inPlace
          ? {
              pods: {
                canaryPods: stepPods.canary,
                stablePods: stepPods.stable,
                pods: role === 'canary' ? stepPods.canary : stepPods.stable,
              },
            }
          : {}),
      };
      // A built-in query may need the names as its router writes them.
      return builtin ? builtinModel(router, m) : m;
    };
    const judgeOf = (): JudgeQueries | undefined => {
      if (!spec.judge) return undefined;
      const window = judgeWindow(interval, spec.judge.step);
      // In the judge's queries {{ interval }} is the step: each value is a rate over one step.
      const at = (role: QueryModel['role']) => ({
        ...model(role),
        interval: `${window.stepSeconds}s`,
      });
      return {
        options: judgeOptions(spec.judge),
        window,
        canary: renderQuery(template, at('canary')),
        primary: renderQuery(primaryTemplate ?? template, at('primary')),
      };
    };
    try {
      return {
        spec,
        provider,
        canary: renderQuery(template, model('canary')),
        ...(spec.comparePrimary
          ? { primary: renderQuery(primaryTemplate ?? template, model('primary')) }
          : {}),
        unit:
          !spec.templateRef && !spec.query && isBuiltin(spec.name) ? builtinUnits[spec.name] : '',
        windowSeconds: Math.round(durationMs(interval, 60_000) / 1000),
        ...(spec.judge ? { judge: judgeOf() } : {}),
      };
    } catch (err) {
      if (err instanceof QueryTemplateError) return { spec, error: err.message };
      throw err;
    }
  }

  private defaultConfig(canary: Canary): ProviderConfig | { error: string } {
    const address = canary.spec.metricsServer ?? this.options.defaultAddress;
    if (!address) {
      return {
        error:
          'no Prometheus address: set spec.metricsServer or start the controller with --metrics-server',
      };
    }
    return {
      type: 'prometheus',
      address,
      headers: {},
      insecureSkipVerify: false,
      timeoutMs: defaultQueryTimeoutMs,
    };
  }

  private templateConfig(mt: MetricTemplate): ProviderConfig | { error: string } {
    const p = mt.spec.provider;
    const where = `MetricTemplate ${mt.metadata.namespace}/${mt.metadata.name}`;
    // A vendor API has its own keys and address; only PromQL falls back to --metrics-server.
    const vendor = vendorCredentials[p.type];
    // Graphite takes the generic credentials (basic auth), but never the PromQL --metrics-server.
    if (p.type === 'graphite' && !p.address)
      return { error: `${where}: a graphite template needs provider.address (graphite-web's URL)` };
    if (p.type === 'cloudwatch' && !p.region)
      return { error: `${where}: a cloudwatch template needs provider.region (e.g. us-east-1)` };
    const fallback =
      typeof vendor?.defaultAddress === 'function'
        ? vendor.defaultAddress(p)
        : (vendor?.defaultAddress ?? (vendor ? undefined : this.options.defaultAddress));
    const address = p.address ?? fallback;
    if (!address)
      return {
        error: vendor
          ? `${where}: a ${p.type} template needs provider.address (${vendor.addressHint})`
          : `${where} has no provider.address and the controller has no --metrics-server`,
      };
    const headers: Record<string, string> = { ...(p.headers ?? {}) };
    let auth: ProviderAuth | undefined;
    let settings: Record<string, string> | undefined;
    const keys = vendor?.keys.join(' and ');
    if (vendor && !p.secretRef && !vendor.secretOptional)
      return { error: `${where}: a ${p.type} template needs a secretRef with ${keys}` };
    if (p.secretRef) {
      const ref = { namespace: mt.metadata.namespace!, name: p.secretRef.name };
      const secret = this.options.secrets(ref.namespace, ref.name);
      if (!secret) return { error: `${where}: Secret ${ref.namespace}/${ref.name} not found` };
      const refused = credentialSecretProblem(secret, ref);
      if (refused) return { error: `${where}: ${refused}` };
      const data = secretData(secret);
      if (vendor) {
        if (vendor.keys.some((k) => !data[k]))
          return { error: `${where}: Secret ${p.secretRef.name} needs ${keys}` };
        const problem = vendor.problem?.(data);
        if (problem) return { error: `${where}: Secret ${p.secretRef.name}: ${problem}` };
        Object.assign(headers, vendor.headers(data));
        settings = vendor.settings?.(data, p);
      } else if (data.token) auth = { bearer: data.token };
      else if (data.username !== undefined && data.password !== undefined)
        auth = { username: data.username, password: data.password };
      for (const [k, v] of Object.entries(data))
        if (k.startsWith('headers.')) headers[k.slice('headers.'.length)] = v;
      if (!vendor && !auth && !Object.keys(data).some((k) => k.startsWith('headers.'))) {
        return {
          error: `${where}: Secret ${p.secretRef.name} has none of the keys token, username and password, or headers.<name>`,
        };
      }
    }
    const badHeader = Object.keys(headers).find(
      (h) => !headerName.test(h) || reserved.has(h.toLowerCase()),
    );
    if (badHeader !== undefined)
      return {
        error: `${where}: header ${JSON.stringify(badHeader.slice(0, 64))} may not be sent: header names are RFC 7230 tokens, and ${reservedHeaderNames.join(', ')} are set by the controller`,
      };
    if (
      !vendor &&
      !p.address &&
      Object.keys(headers).length > 0 &&
      !this.options.allowMetricsServerHeaders
    ) {
      return {
        error: `${where} has no provider.address, so its headers (${Object.keys(headers).sort().join(', ')}) would go to the controller's shared --metrics-server: give it an address, or start the controller with --allow-metrics-server-headers`,
      };
    }
    return {
      type: p.type,
      address,
      headers,
      ...(auth ? { auth } : {}),
      insecureSkipVerify: Boolean(p.insecureSkipVerify),
      timeoutMs: boundedDurationMs(p.timeout, defaultQueryTimeoutMs, durationBounds.queryTimeout),
      ...(settings ? { settings } : {}),
    };
  }
}

/** A MetricTemplate's `provider`. */
type TemplateProvider = MetricTemplate['spec']['provider'];

/**
 * Vendor APIs' credentials: the Secret keys each needs (Flagger's names), the headers they
 * become, and the address when the template names none.
 */
const vendorCredentials: Partial<
  Record<
    string,
    {
      keys: string[];
      headers: (data: Record<string, string>) => Record<string, string>;
      /** Settings that are not headers, for the provider (from the Secret and the template). */
      settings?: (data: Record<string, string>, p: TemplateProvider) => Record<string, string>;
      /** What is wrong with the keys' values, if anything. */
      problem?: (data: Record<string, string>) => string | undefined;
      defaultAddress?: string | ((p: TemplateProvider) => string);
      addressHint?: string;
      /** A template may go without a Secret (a server without authentication). */
      secretOptional?: boolean;
    }
  >
> = {
  datadog: {
    keys: [datadogSecretKeys.apiKey, datadogSecretKeys.applicationKey],
    headers: (d) => ({
      [datadogHeaders.apiKey]: d[datadogSecretKeys.apiKey]!,
      [datadogHeaders.applicationKey]: d[datadogSecretKeys.applicationKey]!,
    }),
    defaultAddress: datadogDefaultAddress,
  },
  newrelic: {
    keys: [newRelicSecretKeys.apiKey, newRelicSecretKeys.accountId],
    headers: (d) => ({ 'Api-Key': d[newRelicSecretKeys.apiKey]! }),
    settings: (d) => ({ accountId: d[newRelicSecretKeys.accountId]!.trim() }),
    problem: (d) =>
      /^\d{1,19}$/.test(d[newRelicSecretKeys.accountId]!.trim())
        ? undefined
        : `${newRelicSecretKeys.accountId} must be the account's number`,
    defaultAddress: newRelicDefaultAddress,
  },
  cloudwatch: {
    keys: [cloudWatchSecretKeys.accessKeyId, cloudWatchSecretKeys.secretAccessKey],
    // Signed per request (SigV4): the keys are settings, never headers.
    headers: () => ({}),
    settings: (d, p) => ({
      region: p.region ?? '',
      accessKeyId: d[cloudWatchSecretKeys.accessKeyId]!.trim(),
      secretAccessKey: d[cloudWatchSecretKeys.secretAccessKey]!.trim(),
      ...(d[cloudWatchSecretKeys.sessionToken]
        ? { sessionToken: d[cloudWatchSecretKeys.sessionToken]!.trim() }
        : {}),
    }),
    defaultAddress: (p) => cloudWatchAddress(p.region ?? ''),
  },
  stackdriver: {
    keys: [stackdriverSecretKeys.serviceAccountKey],
    // The key signs a token per hour in the provider: a setting, never a header.
    headers: () => ({}),
    settings: (d) => ({
      serviceAccountKey: d[stackdriverSecretKeys.serviceAccountKey]!,
      ...(d[stackdriverSecretKeys.project]
        ? { project: d[stackdriverSecretKeys.project]!.trim() }
        : {}),
    }),
    problem: (d) => {
      const key = parseServiceAccountKey(d[stackdriverSecretKeys.serviceAccountKey]!);
      if ('error' in key) return key.error;
      const project = d[stackdriverSecretKeys.project]?.trim() ?? key.projectId;
      if (!project) return 'no project: add the key project (the key file has no project_id)';
      return projectProblem(project);
    },
    defaultAddress: stackdriverDefaultAddress,
  },
  influxdb: {
    keys: [influxdbSecretKeys.token, influxdbSecretKeys.org],
    headers: (d) => ({ Authorization: `Token ${d[influxdbSecretKeys.token]!.trim()}` }),
    settings: (d) => ({ org: d[influxdbSecretKeys.org]!.trim() }),
    addressHint: "InfluxDB's URL, e.g. http://influxdb.monitoring:8086",
    secretOptional: true,
  },
  dynatrace: {
    keys: [dynatraceTokenKey],
    headers: (d) => ({ Authorization: `Api-Token ${d[dynatraceTokenKey]!}` }),
    addressHint: 'the environment URL, e.g. https://abc12345.live.dynatrace.com',
  },
};

const headerName = new RegExp(headerNamePattern.replace('+$', `{1,${headerNameMaxLength}}$`));
const reserved = new Set<string>(reservedHeaderNames);

/** Why a metric's query window cannot be used (the CRD bounds it; older CRDs did not). */
function windowProblem(interval: string): string | undefined {
  const { min, max } = durationBounds.metricInterval;
  const ms = durationMs(interval, -1);
  if (ms < durationMs(min, 0) || ms > durationMs(max, 0))
    return `interval ${JSON.stringify(interval.slice(0, 32))} must be a duration from ${min} to ${max}`;
  return undefined;
}

/** What the CanaryRun keeps of a verdict: sizes always, the estimate where it is finite. */
function judgeRecord(v: Judgement, options: JudgeOptions): JudgeRecord {
  const finite = (key: 'estimate' | 'lower' | 'upper') => {
    const x = v.relative?.[key];
    return x !== undefined && Number.isFinite(x) ? { [key]: x } : {};
  };
  return {
    canarySamples: v.canarySamples,
    primarySamples: v.primarySamples,
    ...finite('estimate'),
    ...finite('lower'),
    ...finite('upper'),
    confidence: options.confidence,
    tolerance: options.tolerance,
  };
}

/** thresholdRange, or Flagger's deprecated `threshold` (a minimum for success rate, else a maximum). */
function boundsOf(spec: MetricSpec): { min?: number; max?: number } {
  if (spec.thresholdRange) return spec.thresholdRange;
  if (spec.threshold === undefined) return {};
  return spec.name === 'request-success-rate' ? { min: spec.threshold } : { max: spec.threshold };
}
