import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { AlertProviderSpec } from './alert-provider-schema.js';
import type { CanaryRunSpec, CanaryRunStatus } from './canary-run-schema.js';
import type { CanarySpec, CanaryStatus } from './canary-schema.js';
import type { MetricTemplateSpec } from './metric-template-schema.js';

/**
 * The four Weir kinds as TypeScript types. The spec and status types are inferred
 * from the same TypeBox schemas the CRDs are generated from, so they cannot drift.
 */
interface WeirObject<K extends string, S, T = never> {
  apiVersion: 'weir.dev/v1alpha1';
  kind: K;
  metadata: V1ObjectMeta;
  spec: S;
  status?: T;
}

export type Canary = WeirObject<'Canary', CanarySpec, CanaryStatus>;
export type MetricTemplate = WeirObject<'MetricTemplate', MetricTemplateSpec>;
export type AlertProvider = WeirObject<'AlertProvider', AlertProviderSpec>;
export type CanaryRun = WeirObject<'CanaryRun', CanaryRunSpec, CanaryRunStatus>;

export type {
  AlertProviderSpec,
  CanaryRunSpec,
  CanaryRunStatus,
  CanarySpec,
  CanaryStatus,
  MetricTemplateSpec,
};
