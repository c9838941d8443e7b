import type { TSchema } from '@sinclair/typebox';
import { AlertProviderSpecSchema } from './alert-provider-schema.js';
import { CanaryRunSpecSchema, CanaryRunStatusSchema } from './canary-run-schema.js';
import { CanarySpecSchema, CanaryStatusSchema } from './canary-schema.js';
import { MetricTemplateSpecSchema } from './metric-template-schema.js';

/** The API group and version of every Weir kind. */
export const group = 'weir.dev';
export const version = 'v1alpha1';
export const apiVersion = 'weir.dev/v1alpha1' as const;

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything that defines one Weir kind. */
export interface KindDefinition {
  kind: 'Canary' | 'MetricTemplate' | 'AlertProvider' | 'CanaryRun';
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  description: string;
  spec: TSchema;
  status?: TSchema;
  columns: PrinterColumn[];
}

/** The four kinds, in the order their CRDs are written. */
export const kinds: KindDefinition[] = [
  {
    kind: 'Canary',
    plural: 'canaries',
    singular: 'canary',
    // Flagger's CRD uses the same plural, so `kubectl get canaries` is ambiguous on a
    // cluster running both; `canaries.weir.dev` always works (docs/flagger-compatibility.md).
    shortNames: ['canary', 'canaries'],
    categories: ['all', 'weir'],
    description:
      'A Canary releases a Deployment step by step: Weir shifts traffic to the new version, checks metrics and webhooks at every step, and promotes or rolls back.',
    spec: CanarySpecSchema,
    status: CanaryStatusSchema,
    columns: [
      { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'Release phase.' },
      {
        name: 'Weight',
        type: 'integer',
        jsonPath: '.status.canaryWeight',
        description: 'Canary traffic weight.',
      },
      {
        name: 'FailedChecks',
        type: 'integer',
        jsonPath: '.status.failedChecks',
        description: 'Failed checks of this release.',
      },
      {
        name: 'Revision',
        type: 'string',
        jsonPath: '.status.lastAppliedSpec',
        description: 'Revision being released.',
      },
      {
        name: 'LastTransitionTime',
        type: 'date',
        jsonPath: '.status.lastTransitionTime',
        description: 'Last phase change.',
      },
      { name: 'Provider', type: 'string', jsonPath: '.spec.provider', priority: 1 },
      { name: 'Interval', type: 'string', jsonPath: '.spec.analysis.interval', priority: 1 },
      { name: 'StepWeight', type: 'integer', jsonPath: '.spec.analysis.stepWeight', priority: 1 },
      { name: 'StepWeights', type: 'string', jsonPath: '.spec.analysis.stepWeights', priority: 1 },
      { name: 'MaxWeight', type: 'integer', jsonPath: '.spec.analysis.maxWeight', priority: 1 },
      { name: 'Threshold', type: 'integer', jsonPath: '.spec.analysis.threshold', priority: 1 },
      { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend', priority: 1 },
      { name: 'Promoted', type: 'string', jsonPath: '.status.lastPromotedSpec', priority: 1 },
    ],
  },
  {
    kind: 'MetricTemplate',
    plural: 'metrictemplates',
    singular: 'metrictemplate',
    shortNames: ['mt'],
    categories: ['weir'],
    description: 'A MetricTemplate is a reusable metric query that Canaries reference by name.',
    spec: MetricTemplateSpecSchema,
    columns: [
      { name: 'Provider', type: 'string', jsonPath: '.spec.provider.type' },
      { name: 'Address', type: 'string', jsonPath: '.spec.provider.address', priority: 1 },
    ],
  },
  {
    kind: 'AlertProvider',
    plural: 'alertproviders',
    singular: 'alertprovider',
    shortNames: ['ap'],
    categories: ['weir'],
    description:
      'An AlertProvider is a notification channel (Slack, Teams, Discord, generic webhook) whose address is in a Secret.',
    spec: AlertProviderSpecSchema,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Channel', type: 'string', jsonPath: '.spec.channel', priority: 1 },
    ],
  },
  {
    kind: 'CanaryRun',
    plural: 'canaryruns',
    singular: 'canaryrun',
    // Not `cr`: cert-manager's CertificateRequest has it.
    shortNames: ['run'],
    categories: ['weir'],
    description:
      'A CanaryRun records one release attempt of a Canary: its revision, images, result and every state transition with its cause. Written by Weir; the last 10 per Canary are kept.',
    spec: CanaryRunSpecSchema,
    status: CanaryRunStatusSchema,
    columns: [
      { name: 'Canary', type: 'string', jsonPath: '.spec.canary' },
      { name: 'Revision', type: 'string', jsonPath: '.spec.revision' },
      { name: 'Result', type: 'string', jsonPath: '.status.result' },
      { name: 'Started', type: 'date', jsonPath: '.spec.startTime' },
      { name: 'Ended', type: 'date', jsonPath: '.status.endTime', priority: 1 },
    ],
  },
];

/** A TypeBox schema as plain JSON: TypeBox's symbol keys dropped. */
export function plainSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** The CustomResourceDefinition of one kind, as applied to the API server. */
export function crdFor(def: KindDefinition): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    apiVersion: { type: 'string', description: 'weir.dev/v1alpha1' },
    kind: { type: 'string', description: def.kind },
    metadata: { type: 'object' },
    spec: plainSchema(def.spec),
  };
  if (def.status) properties.status = plainSchema(def.status);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${group}` },
    spec: {
      group,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          ...(def.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: def.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              properties,
            },
          },
        },
      ],
    },
  };
}
