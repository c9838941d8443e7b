import { Type, type Static } from '@sinclair/typebox';
import { ObjectName, StringEnum } from './schema-helpers.js';
import { canaryPhases } from './canary-schema.js';

/** How a release attempt ended. */
export const runResults = ['Promoted', 'RolledBack', 'Superseded', 'Aborted'] as const;

const MetricValue = Type.Object(
  {
    name: Type.String({ maxLength: 63, description: 'Metric name.' }),
    value: Type.Optional(
      Type.Number({ description: 'Measured value (absent when there was no data).' }),
    ),
    primaryValue: Type.Optional(
      Type.Number({ description: 'The primary’s value, when the metric is compared with it.' }),
    ),
    min: Type.Optional(Type.Number({ description: 'Lower bound.' })),
    max: Type.Optional(Type.Number({ description: 'Upper bound.' })),
    passed: Type.Boolean({ description: 'Whether the check passed.' }),
    inconclusive: Type.Optional(
      Type.Boolean({
        description:
          'The check could not be judged (a provider error, no data, too few samples): neither passed nor failed.',
      }),
    ),
    message: Type.Optional(
      Type.String({
        maxLength: 1024,
        description: 'Why it failed or was inconclusive, or what the judge found.',
      }),
    ),
    judge: Type.Optional(
      Type.Object(
        {
          canarySamples: Type.Integer({ minimum: 0, description: 'Canary values judged.' }),
          primarySamples: Type.Integer({ minimum: 0, description: 'Primary values judged.' }),
          estimate: Type.Optional(
            Type.Number({
              description:
                'Shift of the canary from the primary, as a fraction of the primary’s median (0.23: 23 % higher).',
            }),
          ),
          lower: Type.Optional(Type.Number({ description: 'Lower end of the interval.' })),
          upper: Type.Optional(Type.Number({ description: 'Upper end of the interval.' })),
          confidence: Type.Optional(Type.Number({ description: 'Confidence of the interval.' })),
          tolerance: Type.Optional(Type.Number({ description: 'Change allowed.' })),
        },
        { description: 'The statistical judge’s samples and estimate, when the metric has one.' },
      ),
    ),
  },
  { description: 'One metric check at this transition.' },
);

const WebhookResult = Type.Object(
  {
    name: Type.String({ maxLength: 63, description: 'Webhook name.' }),
    type: Type.String({ maxLength: 32, description: 'Webhook type.' }),
    statusCode: Type.Optional(
      Type.Integer({ description: 'HTTP status, absent on a network error or timeout.' }),
    ),
    passed: Type.Boolean({
      description:
        'Whether it answered 2xx (for a rollback webhook: asked for the rollback; for a confirm webhook: confirmed).',
    }),
    body: Type.Optional(
      Type.String({ maxLength: 1024, description: 'Response body, truncated to 1 KiB.' }),
    ),
    error: Type.Optional(
      Type.String({ maxLength: 512, description: 'Why it did not answer 2xx.' }),
    ),
    attempts: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Calls made, retries included.' }),
    ),
  },
  { description: 'One webhook call at this transition.' },
);

const Transition = Type.Object(
  {
    seq: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Position of the transition in the Canary’s history; recording is exactly-once by it.',
      }),
    ),
    time: Type.String({ format: 'date-time', description: 'When the transition happened.' }),
    from: Type.Optional(StringEnum(canaryPhases, { description: 'Phase before.' })),
    to: StringEnum(canaryPhases, { description: 'Phase after.' }),
    event: Type.String({
      maxLength: 64,
      description: 'What caused it: tick, new-revision, metrics, webhook, approval …',
    }),
    weight: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'Canary weight after the transition.',
      }),
    ),
    failedChecks: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Failed checks after the transition.' }),
    ),
    inconclusiveChecks: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Inconclusive steps in a row after the transition.',
      }),
    ),
    reason: Type.Optional(
      Type.String({ maxLength: 64, description: 'CamelCase reason, as on the Event.' }),
    ),
    message: Type.Optional(Type.String({ maxLength: 2048, description: 'Readable description.' })),
    metrics: Type.Optional(Type.Array(MetricValue, { maxItems: 32 })),
    webhooks: Type.Optional(Type.Array(WebhookResult, { maxItems: 32 })),
    deliveries: Type.Optional(
      Type.Array(Type.String({ maxLength: 300 }), {
        maxItems: 64,
        description:
          'Notifications and event webhooks claimed for this transition (`alert/<ns>/<name>`, `webhook/<name>`): each is sent at most once, even across restarts.',
      }),
    ),
  },
  { description: 'One recorded state transition.' },
);

/** spec of a CanaryRun: which release attempt it records. */
export const CanaryRunSpecSchema = Type.Object(
  {
    canary: ObjectName('Name of the Canary (same namespace; also the owner reference).'),
    revision: Type.String({
      maxLength: 64,
      description: 'Revision (hash) of the target being released.',
    }),
    images: Type.Optional(
      Type.Object(
        {
          from: Type.Optional(
            Type.Array(Type.String({ maxLength: 512 }), {
              maxItems: 32,
              description: 'Images of the primary before.',
            }),
          ),
          to: Type.Optional(
            Type.Array(Type.String({ maxLength: 512 }), {
              maxItems: 32,
              description: 'Images being released.',
            }),
          ),
        },
        { description: 'Container images, old and new.' },
      ),
    ),
    startTime: Type.String({
      format: 'date-time',
      description: 'When the release attempt started.',
    }),
  },
  { description: 'The release attempt this run records.' },
);

/** status of a CanaryRun: the outcome and the ordered transitions. */
export const CanaryRunStatusSchema = Type.Object(
  {
    result: Type.Optional(
      StringEnum(runResults, { description: 'Promoted, RolledBack, Superseded or Aborted.' }),
    ),
    endTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the attempt ended.' }),
    ),
    transitions: Type.Optional(
      Type.Array(Transition, {
        maxItems: 500,
        description: 'Every transition in order (the oldest are dropped past 500).',
      }),
    ),
    notified: Type.Optional(
      Type.Array(Type.String({ maxLength: 128 }), {
        maxItems: 1000,
        description: 'Idempotency keys of notifications already sent.',
      }),
    ),
  },
  { description: 'Outcome and audit trail.' },
);

export type CanaryRunSpec = Static<typeof CanaryRunSpecSchema>;
export type CanaryRunStatus = Static<typeof CanaryRunStatusSchema>;
export type RunResult = (typeof runResults)[number];
