import type { V1Secret } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Canary, MetricTemplate } from '../../../src/api/types.js';
import { MetricChecks, type MetricChecksOptions } from '../../../src/analysis/metric-checks.js';
import type { ProviderConfig } from '../../../src/analysis/metric-provider.js';
import { MetricProviderRegistry } from '../../../src/analysis/metric-registry.js';

/**
 * How MetricChecks resolves a metric of an untrusted Canary to a provider and a
 * query (ADR 0012). The provider is a fake that records what it was asked and
 * answers 1; the judge and Prometheus itself are tested elsewhere.
 */
type TemplateSpec = MetricTemplate['spec'];
const sent: { config: ProviderConfig; query: string }[] = [];
const fakeProvider = (type: string) => (config: ProviderConfig) => ({
  type,
  measure: (query: string) => {
    sent.push({ config, query });
    return Promise.resolve({ kind: 'value' as const, value: 1 });
  },
  probe: () => Promise.resolve(undefined),
});
const registry = () =>
  new MetricProviderRegistry()
    .register('prometheus', fakeProvider('prometheus'))
    .register('datadog', fakeProvider('datadog'))
    .register('dynatrace', fakeProvider('dynatrace'))
    .register('newrelic', fakeProvider('newrelic'))
    .register('graphite', fakeProvider('graphite'));

const template = (
  namespace: string,
  name: string,
  spec: Partial<TemplateSpec>,
): MetricTemplate => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'MetricTemplate',
  metadata: { name, namespace },
  spec: {
    provider: { type: 'prometheus', address: 'http://prom.monitoring:9090' },
    query: 'up',
    ...spec,
  },
});
const secret = (over: Partial<V1Secret> = {}, labelled = true): V1Secret => ({
  metadata: labelled ? { labels: { 'weir.dev/credentials': 'true' } } : {},
  stringData: { token: 't0k' },
  ...over,
});

const checks = (
  templates: MetricTemplate[],
  secrets: Record<string, V1Secret> = {},
  over: Partial<MetricChecksOptions> = {},
) =>
  new MetricChecks({
    registry: registry(),
    templates: (ns, name) =>
      templates.find((t) => t.metadata.namespace === ns && t.metadata.name === name),
    secrets: (ns, name) => secrets[`${ns}/${name}`],
    defaultAddress: 'http://shared-prometheus.monitoring:9090',
    defaultProvider: 'kubernetes',
    crossNamespaceRefs: true,
    metrics: new Registry(),
    now: () => 0,
    ...over,
  });

const canary = (...metrics: object[]): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: { metrics },
    },
  }) as unknown as Canary;
const ref = (name: string, namespace?: string, extra: object = {}) => ({
  name: 'm',
  templateRef: { name, ...(namespace ? { namespace } : {}) },
  thresholdRange: { max: 2 },
  ...extra,
});

/** The one failure of a run, or 'passed' — and what reached the provider. */
async function outcome(c: MetricChecks, can: Canary) {
  sent.length = 0;
  const o = await c.run(can, {
    revision: 'r1',
    phase: 'Progressing',
    weight: 10,
    iterations: 1,
    hooks: [],
    measure: true,
    signal: new AbortController().signal,
  });
  return { result: o.passed ? 'passed' : o.failures.join('; '), sent: [...sent] };
}

describe('MetricChecks: cross-namespace references need the template’s consent', () => {
  const shared = (allowedNamespaces?: string[]) =>
    template('monitoring', 'latency', allowedNamespaces ? { allowedNamespaces } : {});

  it.each([
    [
      undefined,
      'm: MetricTemplate monitoring/latency does not list namespace shop in spec.allowedNamespaces',
    ],
    [
      [],
      'm: MetricTemplate monitoring/latency does not list namespace shop in spec.allowedNamespaces',
    ],
    [
      ['checkout'],
      'm: MetricTemplate monitoring/latency does not list namespace shop in spec.allowedNamespaces',
    ],
    [['checkout', 'shop'], 'passed'],
    [['*'], 'passed'],
  ])('allowedNamespaces %j: %s', async (allowed, expected) => {
    const { result, sent } = await outcome(
      checks([shared(allowed)]),
      canary(ref('latency', 'monitoring')),
    );
    expect(result).toBe(expected);
    expect(sent).toHaveLength(expected === 'passed' ? 1 : 0);
  });

  it('a template of the Canary’s own namespace needs no list', async () => {
    const own = template('shop', 'latency', {});
    expect((await outcome(checks([own]), canary(ref('latency')))).result).toBe('passed');
    expect((await outcome(checks([own]), canary(ref('latency', 'shop')))).result).toBe('passed');
  });

  it('--no-cross-namespace-refs is a hard off, whatever the template lists', async () => {
    const { result } = await outcome(
      checks([shared(['*'])], {}, { crossNamespaceRefs: false }),
      canary(ref('latency', 'monitoring')),
    );
    expect(result).toBe(
      'm: MetricTemplate monitoring/latency is in another namespace, and this controller forbids cross-namespace references',
    );
  });

  it('preflight reports the refusal before a release', async () => {
    const problem = await checks([shared()]).preflight(
      canary(ref('latency', 'monitoring')),
      new AbortController().signal,
    );
    expect(problem).toBe(
      'm: MetricTemplate monitoring/latency does not list namespace shop in spec.allowedNamespaces',
    );
  });
});

describe('MetricChecks: credentials only from Secrets labelled for Weir', () => {
  const withSecret = template('shop', 'auth', {
    provider: {
      type: 'prometheus',
      address: 'http://prom.monitoring:9090',
      secretRef: { name: 'prom' },
    },
  });

  it('sends the token of a labelled Secret', async () => {
    const { result, sent } = await outcome(
      checks([withSecret], { 'shop/prom': secret() }),
      canary(ref('auth')),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config.auth).toEqual({ bearer: 't0k' });
  });

  it('refuses an unlabelled Secret, and sends nothing', async () => {
    const { result, sent } = await outcome(
      checks([withSecret], { 'shop/prom': secret({}, false) }),
      canary(ref('auth')),
    );
    expect(result).toBe(
      'm: MetricTemplate shop/auth: Secret shop/prom is not labelled weir.dev/credentials: "true"; label it to let MetricTemplates and AlertProviders of its namespace use it as credentials',
    );
    expect(sent).toEqual([]);
  });

  it('refuses a service account token even when labelled', async () => {
    const { result, sent } = await outcome(
      checks([withSecret], {
        'shop/prom': secret({ type: 'kubernetes.io/service-account-token' }),
      }),
      canary(ref('auth')),
    );
    expect(result).toBe(
      'm: MetricTemplate shop/auth: Secret shop/prom is a service account token, which Weir never sends as credentials',
    );
    expect(sent).toEqual([]);
  });
});

describe('MetricChecks: Datadog templates', () => {
  const datadog = (secretRef?: string, address?: string) =>
    template('shop', 'errors', {
      provider: {
        type: 'datadog',
        ...(address ? { address } : {}),
        ...(secretRef ? { secretRef: { name: secretRef } } : {}),
      },
      query: 'sum:trace.http.request.errors{service:{{ target }}}.as_count()',
    });
  const keys = (data: Record<string, string>) => secret({ stringData: data });

  it('sends both keys of the Secret as Datadog’s headers, to api.datadoghq.com by default', async () => {
    const { result, sent } = await outcome(
      checks([datadog('dd')], {
        'shop/dd': keys({ datadog_api_key: 'a1', datadog_application_key: 'b2' }),
      }),
      canary(ref('errors')),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config).toMatchObject({
      type: 'datadog',
      address: 'https://api.datadoghq.com',
      headers: { 'DD-API-KEY': 'a1', 'DD-APPLICATION-KEY': 'b2' },
    });
    expect(sent[0]!.config.auth).toBeUndefined();
    expect(sent[0]!.query).toBe('sum:trace.http.request.errors{service:podinfo}.as_count()');
  });

  it.each([
    [
      undefined,
      {},
      'm: MetricTemplate shop/errors: a datadog template needs a secretRef with datadog_api_key and datadog_application_key',
    ],
    [
      'dd',
      { datadog_api_key: 'a1' },
      'm: MetricTemplate shop/errors: Secret dd needs datadog_api_key and datadog_application_key',
    ],
  ] as const)('secretRef %s with %j: refused, nothing sent', async (ref_, data, expected) => {
    const { result, sent } = await outcome(
      checks([datadog(ref_)], { 'shop/dd': keys(data) }),
      canary(ref('errors')),
    );
    expect(result).toBe(expected);
    expect(sent).toEqual([]);
  });
});

describe('MetricChecks: Dynatrace templates', () => {
  const dynatrace = (address?: string) =>
    template('shop', 'latency', {
      provider: {
        type: 'dynatrace',
        ...(address ? { address } : {}),
        secretRef: { name: 'dt' },
      },
      query: 'builtin:service.response.time:filter(eq("dt.entity.service.name","{{ target }}"))',
    });
  const token = secret({ stringData: { dynatrace_token: 'dt0c01.abc' } });

  it('sends the token as Dynatrace’s Api-Token authorization, to the environment it names', async () => {
    const { result, sent } = await outcome(
      checks([dynatrace('https://abc12345.live.dynatrace.com')], { 'shop/dt': token }),
      canary(ref('latency')),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config).toMatchObject({
      type: 'dynatrace',
      address: 'https://abc12345.live.dynatrace.com',
      headers: { Authorization: 'Api-Token dt0c01.abc' },
    });
  });

  it('needs an address: there is no default environment, and never the shared --metrics-server', async () => {
    const { result, sent } = await outcome(
      checks([dynatrace()], { 'shop/dt': token }),
      canary(ref('latency')),
    );
    expect(result).toBe(
      'm: MetricTemplate shop/latency: a dynatrace template needs provider.address (the environment URL, e.g. https://abc12345.live.dynatrace.com)',
    );
    expect(sent).toEqual([]);
  });
});

describe('MetricChecks: New Relic templates', () => {
  const newrelic = template('shop', 'success', {
    provider: { type: 'newrelic', secretRef: { name: 'nr' } },
    query:
      "SELECT percentage(count(*), WHERE httpResponseCode < 500) FROM Transaction WHERE appName = '{{ target }}'",
  });
  const keys = (account: string) =>
    secret({ stringData: { newrelic_api_key: 'NRAK-1', newrelic_account_id: account } });

  it('sends the key as Api-Key to NerdGraph, with the account as a setting, not a header', async () => {
    const { result, sent } = await outcome(
      checks([newrelic], { 'shop/nr': keys('1234567\n') }),
      canary(ref('success')),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config).toMatchObject({
      address: 'https://api.newrelic.com/graphql',
      headers: { 'Api-Key': 'NRAK-1' },
      settings: { accountId: '1234567' },
    });
  });

  it('refuses an account id that is not a number, naming the key', async () => {
    const { result, sent } = await outcome(
      checks([newrelic], { 'shop/nr': keys('acme') }),
      canary(ref('success')),
    );
    expect(result).toBe(
      "m: MetricTemplate shop/success: Secret nr: newrelic_account_id must be the account's number",
    );
    expect(sent).toEqual([]);
  });
});

describe('MetricChecks: Graphite templates', () => {
  const graphite = (address?: string, secretRef?: string) =>
    template('shop', 'errors', {
      provider: {
        type: 'graphite',
        ...(address ? { address } : {}),
        ...(secretRef ? { secretRef: { name: secretRef } } : {}),
      },
      query: 'target=stats.{{ target }}.errors',
    });

  it('uses basic auth from the Secret, like Flagger, and the address it names', async () => {
    const { result, sent } = await outcome(
      checks([graphite('http://graphite.monitoring', 'gr')], {
        'shop/gr': secret({ stringData: { username: 'weir', password: 'pw' } }),
      }),
      canary(ref('errors')),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config).toMatchObject({
      address: 'http://graphite.monitoring',
      auth: { username: 'weir', password: 'pw' },
    });
    expect(sent[0]!.query).toBe('target=stats.podinfo.errors');
  });

  it('needs an address: never the PromQL --metrics-server', async () => {
    const { result, sent } = await outcome(checks([graphite()]), canary(ref('errors')));
    expect(result).toBe(
      "m: MetricTemplate shop/errors: a graphite template needs provider.address (graphite-web's URL)",
    );
    expect(sent).toEqual([]);
  });
});

describe('MetricChecks: what reaches the shared --metrics-server', () => {
  it('refuses an inline query unless the controller allows them', async () => {
    const inline = { name: 'errors', query: 'sum(up)', thresholdRange: { max: 2 } };
    const off = await outcome(checks([]), canary(inline));
    expect(off.result).toBe(
      'errors: inline queries are turned off on this controller: move the query into a MetricTemplate (or start the controller with --allow-inline-queries)',
    );
    expect(off.sent).toEqual([]);
    const on = await outcome(checks([], {}, { allowInlineQueries: true }), canary(inline));
    expect(on.result).toBe('passed');
    expect(on.sent[0]).toMatchObject({
      query: 'sum(up)',
      config: { address: 'http://shared-prometheus.monitoring:9090' },
    });
  });

  it('still runs the built-in queries, which the author does not write', async () => {
    const { result, sent } = await outcome(
      checks([]),
      canary({ name: 'request-success-rate', thresholdRange: { max: 2 } }),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config).toMatchObject({
      address: 'http://shared-prometheus.monitoring:9090',
      headers: {},
    });
  });

  const addressless = (provider: Partial<TemplateSpec['provider']>) =>
    template('shop', 'tenant', { provider: { type: 'prometheus', ...provider } });

  it.each([
    ['its own headers', { headers: { 'X-Scope-OrgID': 'other-team' } }, {}, 'X-Scope-OrgID'],
    [
      'headers from its Secret',
      { secretRef: { name: 'prom' } },
      { 'shop/prom': secret({ stringData: { 'headers.X-Scope-OrgID': 'other-team' } }) },
      'X-Scope-OrgID',
    ],
  ])(
    'refuses a template without an address that sends %s to the shared server',
    async (_what, provider, secrets, header) => {
      const { result, sent } = await outcome(
        checks([addressless(provider)], secrets),
        canary(ref('tenant')),
      );
      expect(result).toBe(
        `m: MetricTemplate shop/tenant has no provider.address, so its headers (${header}) would go to the controller's shared --metrics-server: give it an address, or start the controller with --allow-metrics-server-headers`,
      );
      expect(sent).toEqual([]);
    },
  );

  it('sends those headers when the operator allows it, or to the template’s own address', async () => {
    const allowed = await outcome(
      checks(
        [addressless({ headers: { 'X-Scope-OrgID': 'shop' } })],
        {},
        { allowMetricsServerHeaders: true },
      ),
      canary(ref('tenant')),
    );
    expect(allowed.sent[0]!.config).toMatchObject({
      address: 'http://shared-prometheus.monitoring:9090',
      headers: { 'X-Scope-OrgID': 'shop' },
    });
    const own = await outcome(
      checks([
        addressless({ address: 'http://mimir.shop:8080', headers: { 'X-Scope-OrgID': 'shop' } }),
      ]),
      canary(ref('tenant')),
    );
    expect(own.sent[0]!.config).toMatchObject({ address: 'http://mimir.shop:8080' });
  });

  it('a template without an address or headers uses the shared server with its credentials', async () => {
    const { result, sent } = await outcome(
      checks([addressless({ secretRef: { name: 'prom' } })], { 'shop/prom': secret() }),
      canary(ref('tenant')),
    );
    expect(result).toBe('passed');
    expect(sent[0]!.config).toMatchObject({
      address: 'http://shared-prometheus.monitoring:9090',
      auth: { bearer: 't0k' },
      headers: {},
    });
  });
});

describe('MetricChecks: values an older CRD let through', () => {
  it('holds a template timeout within 100ms to 5m', async () => {
    const at = async (timeout: string) =>
      (
        await outcome(
          checks([
            template('shop', 't', {
              provider: { type: 'prometheus', address: 'http://p:9090', timeout },
            }),
          ]),
          canary(ref('t')),
        )
      ).sent[0]!.config.timeoutMs;
    expect(await at('500h')).toBe(300_000);
    expect(await at('1ms')).toBe(100);
    expect(await at('30s')).toBe(30_000);
  });

  it.each(['720h', '0s', '1 minute'])('refuses a query window of %s', async (interval) => {
    const { result, sent } = await outcome(
      checks([template('shop', 't', {})]),
      canary(ref('t', undefined, { interval })),
    );
    expect(result).toBe(`m: interval "${interval}" must be a duration from 1s to 24h`);
    expect(sent).toEqual([]);
  });

  it('refuses a template variable that would change the query, naming it', async () => {
    const { result, sent } = await outcome(
      checks([template('shop', 't', { query: 'x{route="{{ variables.route }}"}' })]),
      canary(ref('t', undefined, { templateVariables: { route: 'x"} or vector(1) #' } })),
    );
    expect(result).toMatch(/^m: \{\{ variables\.route \}\}: the value may contain only letters/);
    expect(sent).toEqual([]);
  });

  it.each(['Host', 'content-length', 'X Bad'])('refuses the header %s', async (name) => {
    const { result, sent } = await outcome(
      checks([
        template('shop', 't', {
          provider: { type: 'prometheus', address: 'http://p:9090', headers: { [name]: 'x' } },
        }),
      ]),
      canary(ref('t')),
    );
    expect(result).toBe(
      `m: MetricTemplate shop/t: header "${name}" may not be sent: header names are RFC 7230 tokens, and host, content-length, content-type, transfer-encoding, connection are set by the controller`,
    );
    expect(sent).toEqual([]);
  });
});
