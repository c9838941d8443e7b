import { metricProviderTypes } from '../api/metric-template-schema.js';
import type { MetricProviderFactory } from './metric-provider.js';
import { MetricProviderRegistry } from './metric-registry.js';
import { cloudWatchFactory } from './cloudwatch-provider.js';
import { datadogFactory } from './datadog-provider.js';
import { influxdbFactory } from './influxdb-provider.js';
import { stackdriverFactory } from './stackdriver-provider.js';
import { dynatraceFactory } from './dynatrace-provider.js';
import { graphiteFactory } from './graphite-provider.js';
import { newRelicFactory } from './newrelic-provider.js';
import { prometheusFactory } from './prometheus-provider.js';
import { sharedBy, type ProviderOptions, type Shared } from './provider-transport.js';

/**
 * What metric providers are built from: egress policy, response limits, trusted addresses,
 * and the clock that places a time range (Datadog).
 */
export interface MetricProviderDeps extends ProviderOptions {
  now?: () => number;
}

/**
 * Every metric provider Weir has, by the MetricTemplate `provider.type` the CRD
 * accepts (`metricProviderTypes`): a type without a provider, or a provider the
 * CRD does not accept, does not compile.
 */
export const metricProviderFamily: Record<
  (typeof metricProviderTypes)[number],
  (deps: MetricProviderDeps, shared: Shared) => MetricProviderFactory
> = {
  prometheus: (_deps, shared) => prometheusFactory(shared),
  datadog: (deps, shared) => datadogFactory(deps, shared),
  dynatrace: (deps, shared) => dynatraceFactory(deps, shared),
  newrelic: (deps, shared) => newRelicFactory(deps, shared),
  graphite: (deps, shared) => graphiteFactory(deps, shared),
  cloudwatch: (deps, shared) => cloudWatchFactory(deps, shared),
  stackdriver: (deps, shared) => stackdriverFactory(deps, shared),
  influxdb: (deps, shared) => influxdbFactory(deps, shared),
};

/** The controller's metric providers, one per entry of {@link metricProviderFamily}. */
export function buildMetricProviders(deps: MetricProviderDeps): MetricProviderRegistry {
  const registry = new MetricProviderRegistry();
  // One pool of agents, one cap on queries in flight, over every type.
  const shared = sharedBy(deps);
  for (const type of metricProviderTypes)
    registry.register(type, metricProviderFamily[type](deps, shared));
  return registry;
}
