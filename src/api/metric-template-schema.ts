import { Type, type Static } from '@sinclair/typebox';
import { AllowedNamespaces } from './allowed-namespaces.js';
import { durationBounds, reservedHeaderNames } from './limits.js';
import {
  Duration,
  HttpUrl,
  ObjectName,
  StringEnum,
  StringMap,
  headerNameRule,
} from './schema-helpers.js';

/** Metric providers Weir can query; each is one file behind the MetricProvider interface. */
export const metricProviderTypes = [
  'prometheus',
  'datadog',
  'dynatrace',
  'newrelic',
  'graphite',
  'cloudwatch',
  'stackdriver',
  'influxdb',
] as const;

/** An AWS region name, as `provider.region` must spell it (us-east-1, us-gov-west-1, cn-north-1). */
export const awsRegionPattern = '^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$';

/** spec of a MetricTemplate (Flagger-compatible: provider + query). */
export const MetricTemplateSpecSchema = Type.Object(
  {
    provider: Type.Object(
      {
        type: StringEnum(metricProviderTypes, {
          description:
            'Metric provider: prometheus (or any PromQL store), datadog (keys from the Secret: datadog_api_key, datadog_application_key), dynatrace (Metrics API v2; key dynatrace_token; address required), newrelic (NerdGraph NRQL; keys newrelic_api_key, newrelic_account_id), graphite (render API; optional username and password; address required), cloudwatch (GetMetricData, signed for provider.region; keys aws_access_key_id, aws_secret_access_key, optional aws_session_token), stackdriver (Google Cloud Monitoring MQL; keys serviceAccountKey and project), influxdb (Flux; optional keys token and org; address required).',
        }),
        address: Type.Optional(
          HttpUrl(
            'Base URL of the provider, e.g. http://prometheus.monitoring:9090. Default: the controller’s --metrics-server for prometheus, https://api.datadoghq.com for datadog, https://monitoring.<region>.amazonaws.com for cloudwatch, https://monitoring.googleapis.com for stackdriver.',
          ),
        ),
        secretRef: Type.Optional(
          Type.Object(
            { name: ObjectName('Name of a Secret in the template’s namespace.') },
            {
              description:
                'Secret with credentials: `token` (bearer) or `username` and `password` (basic); `headers.<name>` keys become request headers; for datadog, `datadog_api_key` and `datadog_application_key`; for dynatrace, `dynatrace_token`; for newrelic, `newrelic_api_key` and `newrelic_account_id`; for cloudwatch, `aws_access_key_id`, `aws_secret_access_key` and optionally `aws_session_token`; for stackdriver, `serviceAccountKey` (the key file’s JSON) and `project` (default: the key’s project_id); for influxdb, `token` and `org`. It must carry the label weir.dev/credentials: "true".',
            },
          ),
        ),
        region: Type.Optional(
          Type.String({
            pattern: awsRegionPattern,
            maxLength: 32,
            description:
              'AWS region of a cloudwatch template (required there, e.g. us-east-1): the requests are signed for it, and without an address they go to its endpoint.',
          }),
        ),
        insecureSkipVerify: Type.Optional(
          Type.Boolean({ description: 'Skip TLS verification (not recommended).' }),
        ),
        timeout: Type.Optional(
          Duration('Timeout of one query (default 5s).', durationBounds.queryTimeout),
        ),
        headers: Type.Optional(
          StringMap(
            'Extra request headers without secrets (use secretRef for those). Without an address they would go to the controller’s shared --metrics-server, which the controller refuses unless started with --allow-metrics-server-headers.',
            { maxProperties: 16, valueMaxLength: 1024 },
            {
              'x-kubernetes-validations': [
                headerNameRule('the keys of headers'),
                {
                  rule: `self.all(k, !k.matches("(?i)^(${reservedHeaderNames.join('|')})$"))`,
                  message: `headers must not set ${reservedHeaderNames.join(', ')}: the controller sets them`,
                },
              ],
            },
          ),
        ),
      },
      {
        description: 'Where to query.',
        'x-kubernetes-validations': [
          {
            rule: "self.type != 'cloudwatch' || has(self.region)",
            message: 'a cloudwatch provider needs region (e.g. us-east-1)',
          },
          {
            rule: "!has(self.region) || self.type == 'cloudwatch'",
            message: 'region is for cloudwatch only',
          },
        ],
      },
    ),
    query: Type.String({
      minLength: 1,
      maxLength: 16384,
      description:
        'Query template. Variables: {{ name }}, {{ namespace }}, {{ target }}, {{ service }}, {{ interval }}, {{ variables.<key> }}.',
    }),
    allowedNamespaces: Type.Optional(AllowedNamespaces('MetricTemplate')),
  },
  { description: 'A reusable metric query.' },
);

export type MetricTemplateSpec = Static<typeof MetricTemplateSpecSchema>;
