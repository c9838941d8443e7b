import { Type, type Static } from '@sinclair/typebox';
import { Duration, HttpUrl, ObjectName, StringEnum, StringMap } from './schema-helpers.js';

/** Metric providers Weir can query; each is one file behind the MetricProvider interface. */
export const metricProviderTypes = ['prometheus'] as const;

/** spec of a MetricTemplate (Flagger-compatible: provider + query). */
export const MetricTemplateSpecSchema = Type.Object(
  {
    provider: Type.Object(
      {
        type: StringEnum(metricProviderTypes, {
          description: 'Metric provider. Weir ships prometheus.',
        }),
        address: Type.Optional(
          HttpUrl('Base URL of the provider, e.g. http://prometheus.monitoring:9090.'),
        ),
        secretRef: Type.Optional(
          Type.Object(
            { name: ObjectName('Name of a Secret in the template’s namespace.') },
            {
              description:
                'Secret with credentials: `token` (bearer) or `username` and `password` (basic); `headers.<name>` keys become request headers.',
            },
          ),
        ),
        insecureSkipVerify: Type.Optional(
          Type.Boolean({ description: 'Skip TLS verification (not recommended).' }),
        ),
        timeout: Type.Optional(Duration('Timeout of one query (default 5s).')),
        headers: Type.Optional(
          StringMap('Extra request headers without secrets (use secretRef for those).'),
        ),
      },
      { description: 'Where to query.' },
    ),
    query: Type.String({
      minLength: 1,
      maxLength: 16384,
      description:
        'Query template. Variables: {{ name }}, {{ namespace }}, {{ target }}, {{ service }}, {{ interval }}, {{ variables.<key> }}.',
    }),
  },
  { description: 'A reusable metric query.' },
);

export type MetricTemplateSpec = Static<typeof MetricTemplateSpecSchema>;
