import { metricProviderTypes } from '../api/metric-template-schema.js';
import type { MetricProviderFactory } from './metric-provider.js';
import { MetricProviderRegistry } from './metric-registry.js';
import { prometheusFactory, type PrometheusOptions } from './prometheus-provider.js';

/** What metric providers are built from: egress policy, response limits, trusted addresses. */
export type MetricProviderDeps = PrometheusOptions;

/**
 * Every metric provider Weir has, by the MetricTemplate `provider.type` the CRD
 * accepts (`metricProviderTypes`): a type without a provider, or a provider the
 * CRD does not accept, does not compile.
 */
export const metricProviderFamily: Record<
  (typeof metricProviderTypes)[number],
  (deps: MetricProviderDeps) => MetricProviderFactory
> = {
  prometheus: (deps) => prometheusFactory(deps),
};

/** The controller's metric providers, one per entry of {@link metricProviderFamily}. */
export function buildMetricProviders(deps: MetricProviderDeps): MetricProviderRegistry {
  const registry = new MetricProviderRegistry();
  for (const type of metricProviderTypes) registry.register(type, metricProviderFamily[type](deps));
  return registry;
}
