import { Type, type Static } from '@sinclair/typebox';
import {
  DnsLabel,
  Duration,
  HttpUrl,
  IntOrString,
  MapOf,
  ObjectName,
  Passthrough,
  StringEnum,
  StatusStringMap,
  StringMap,
  headerNameRule,
  withRules,
} from './schema-helpers.js';
import {
  durationBounds,
  maxProgressDeadlineSeconds,
  maxTemplateVariables,
  templateVariableMaxLength,
  templateVariablePattern,
} from './limits.js';

/**
 * The Canary API (weir.dev/v1alpha1). Field names, types and defaults follow
 * Flagger's flagger.app/v1beta1 wherever Weir has the feature; see
 * docs/flagger-compatibility.md. This file is the one source of truth: the CRD
 * in crds/ is generated from it and the TypeScript types are inferred from it.
 */

/** Webhook types, with Flagger's names and semantics. */
export const webhookTypes = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'post-rollout',
  'rollback',
  'event',
] as const;

/** Release phases (Flagger-compatible). */
export const canaryPhases = [
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
  'Terminating',
  'Terminated',
] as const;

const LocalRef = (what: string) =>
  Type.Object(
    {
      name: ObjectName(`Name of the ${what}.`),
      namespace: Type.Optional(
        DnsLabel(`Namespace of the ${what}; defaults to the Canary's namespace.`),
      ),
    },
    { description: `Reference to a ${what}.` },
  );

const TargetRef = Type.Object(
  {
    apiVersion: Type.String({
      description: 'API version of the target, e.g. apps/v1.',
      maxLength: 64,
    }),
    kind: StringEnum(['Deployment', 'DaemonSet', 'StatefulSet', 'Service'], {
      description:
        'Kind of the target: a Deployment (scaled to zero between releases), a DaemonSet (parked by a node selector between releases), a StatefulSet (released in place, a share of its pods at a time, by its update partition) or a Knative Service (apiVersion serving.knative.dev/v1; its traffic split between two of its revisions).',
    }),
    name: ObjectName(
      'Name of the target workload; it becomes the canary and `<name>-primary` is created (none for a StatefulSet or a Knative Service).',
    ),
  },
  {
    description: 'The workload this Canary releases.',
    'x-kubernetes-validations': [
      {
        rule: "self.kind != 'Service' || self.apiVersion == 'serving.knative.dev/v1'",
        message:
          'a Service target is a Knative Service (apiVersion serving.knative.dev/v1); a plain Kubernetes Service cannot be released: name the Deployment behind it',
        fieldPath: '.kind',
      },
      {
        rule: "self.apiVersion != 'serving.knative.dev/v1' || self.kind == 'Service'",
        message: 'serving.knative.dev/v1 targets are Knative Services: set kind to Service',
        fieldPath: '.kind',
      },
    ],
  },
);

const AutoscalerRef = Type.Object(
  {
    apiVersion: Type.String({
      description: 'API version of the autoscaler, e.g. autoscaling/v2.',
      maxLength: 64,
    }),
    kind: StringEnum(['HorizontalPodAutoscaler', 'ScaledObject'], {
      description: 'Kind of the autoscaler.',
    }),
    name: ObjectName(
      'Name of the autoscaler; Weir creates `<name>-primary` for the primary workload.',
    ),
    primaryScalerQueries: Type.Optional(
      StringMap('KEDA trigger queries for the primary ScaledObject, by trigger name.', {
        maxProperties: 16,
      }),
    ),
    primaryScalerReplicas: Type.Optional(
      Type.Object(
        {
          minReplicas: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Minimum replicas of the primary.' }),
          ),
          maxReplicas: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Maximum replicas of the primary.' }),
          ),
        },
        {
          description:
            'Replica bounds for the primary autoscaler, when they differ from the canary’s.',
        },
      ),
    ),
  },
  { description: 'Autoscaler of the target, copied for the primary.' },
);

const IngressRef = Type.Object(
  {
    apiVersion: Type.String({
      description: 'API version of the Ingress, e.g. networking.k8s.io/v1.',
      maxLength: 64,
    }),
    kind: StringEnum(['Ingress'], { description: 'Kind: Ingress.' }),
    name: ObjectName(
      'Name of the Ingress to clone as `<name>-canary` (NGINX and Skipper providers).',
    ),
  },
  { description: 'The Ingress used by the NGINX and Skipper providers.' },
);

const RouteRef = Type.Object(
  {
    apiVersion: Type.String({
      description: 'API version of the route: apisix.apache.org/v2.',
      maxLength: 64,
    }),
    kind: StringEnum(['ApisixRoute'], { description: 'Kind: ApisixRoute.' }),
    name: ObjectName(
      'Name of the ApisixRoute to copy as `<name>-<apex>-canary` (APISIX provider), in the Canary’s namespace.',
    ),
  },
  { description: 'The ApisixRoute used by the APISIX provider (Flagger’s spec.routeRef).' },
);

const CustomMetadata = (what: string) =>
  Type.Object(
    {
      labels: Type.Optional(StringMap(`Labels added to the ${what}.`, { maxProperties: 64 })),
      annotations: Type.Optional(
        StringMap(`Annotations added to the ${what}.`, { maxProperties: 64 }),
      ),
    },
    { description: `Extra metadata for the ${what}.` },
  );

const GatewayRef = Type.Object(
  {
    name: ObjectName('Name of the Gateway.'),
    namespace: Type.Optional(DnsLabel('Namespace of the Gateway; defaults to the Canary’s.')),
    group: Type.Optional(
      Type.String({
        description: 'API group of the parent (default gateway.networking.k8s.io).',
        maxLength: 253,
        default: 'gateway.networking.k8s.io',
      }),
    ),
    kind: Type.Optional(
      Type.String({
        description: 'Kind of the parent (default Gateway).',
        maxLength: 63,
        default: 'Gateway',
      }),
    ),
    sectionName: Type.Optional(ObjectName('Listener name on the Gateway.')),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'Listener port on the Gateway.' }),
    ),
  },
  { description: 'A Gateway API parentRef for the generated HTTPRoute.' },
);

const MirrorBackend = Type.Object(
  {
    backendRef: Type.Object(
      {
        name: ObjectName('Name of the Service receiving mirrored traffic.'),
        namespace: Type.Optional(DnsLabel('Namespace of the Service.')),
        group: Type.Optional(
          Type.String({ default: '', maxLength: 253, description: 'API group (empty for core).' }),
        ),
        kind: Type.Optional(
          Type.String({
            default: 'Service',
            maxLength: 63,
            description: 'Kind (default Service).',
          }),
        ),
        port: Type.Optional(
          Type.Integer({ minimum: 1, maximum: 65535, description: 'Port of the Service.' }),
        ),
      },
      { description: 'Backend that receives a copy of the traffic.' },
    ),
  },
  { description: 'A Gateway API request mirror.' },
);

/** spec.service: how the application is exposed and routed. */
export const CanaryServiceSchema = Type.Object(
  {
    name: Type.Optional(DnsLabel('Name of the apex Service; defaults to targetRef.name.')),
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'Port of the generated Services.',
    }),
    portName: Type.Optional(DnsLabel('Name of the Service port (default http).')),
    targetPort: Type.Optional(
      IntOrString({ description: 'Container port or port name; defaults to port.' }),
    ),
    appProtocol: Type.Optional(
      Type.String({ maxLength: 63, description: 'appProtocol of the Service port.' }),
    ),
    portDiscovery: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Also expose every container port of the target.',
      }),
    ),
    timeout: Type.Optional(
      Duration(
        'Request timeout set on the route, e.g. 30s; 0s turns it off where the router allows.',
        durationBounds.routeTimeout,
      ),
    ),
    gateways: Type.Optional(
      Type.Array(Type.String({ maxLength: 253 }), {
        maxItems: 16,
        description: 'Istio gateways of the VirtualService.',
      }),
    ),
    gatewayRefs: Type.Optional(
      Type.Array(GatewayRef, {
        maxItems: 32,
        description: 'Gateway API parents of the generated HTTPRoute.',
      }),
    ),
    routeRef: Type.Optional(
      Type.Object(
        {
          name: ObjectName('Name of the HTTPRoute, in the Canary’s namespace.'),
        },
        {
          description:
            'gatewayapi: an HTTPRoute of your own (kept in Git) to split instead of generating one. Weir changes only the weights of the backendRefs naming <apex>-primary and <apex>-canary, in every rule that names both.',
        },
      ),
    ),
    hosts: Type.Optional(
      Type.Array(Type.String({ maxLength: 253 }), {
        maxItems: 16,
        description: 'Hostnames routed to the application.',
      }),
    ),
    delegation: Type.Optional(
      Type.Boolean({ description: 'Istio: generate a delegate VirtualService.' }),
    ),
    trafficPolicy: Type.Optional(
      Passthrough('Istio DestinationRule trafficPolicy for the primary and canary.'),
    ),
    match: Type.Optional(
      Type.Array(Passthrough('Istio HTTPMatchRequest.'), {
        maxItems: 16,
        description: 'Istio route matches for the apex.',
      }),
    ),
    rewrite: Type.Optional(
      Type.Object(
        {
          uri: Type.Optional(
            Type.String({ maxLength: 1024, description: 'Rewrite the path (or prefix) to this.' }),
          ),
          authority: Type.Optional(
            Type.String({ maxLength: 253, description: 'Rewrite the Host header.' }),
          ),
          type: Type.Optional(
            StringEnum(['ReplaceFullPath', 'ReplacePrefixMatch'], {
              description: 'Gateway API path rewrite type.',
            }),
          ),
        },
        { description: 'HTTP rewrite applied by the router.' },
      ),
    ),
    retries: Type.Optional(
      Type.Object(
        {
          attempts: Type.Optional(Type.Integer({ minimum: 0, description: 'Number of retries.' })),
          perTryTimeout: Type.Optional(
            Duration('Timeout per attempt.', durationBounds.routeTimeout),
          ),
          retryOn: Type.Optional(
            Type.String({ maxLength: 256, description: 'Conditions that trigger a retry.' }),
          ),
        },
        { description: 'Retry policy of the route.' },
      ),
    ),
    headers: Type.Optional(Passthrough('Istio header operations for requests and responses.')),
    corsPolicy: Type.Optional(Passthrough('Istio CORS policy.')),
    mirror: Type.Optional(
      Type.Array(MirrorBackend, { maxItems: 8, description: 'Gateway API request mirrors.' }),
    ),
    meshName: Type.Optional(
      Type.String({
        maxLength: 253,
        description:
          'Kuma: the mesh of the TrafficRoute (default: the Canary’s kuma.io/mesh annotation, else default).',
      }),
    ),
    backends: Type.Optional(
      Type.Array(Type.String({ maxLength: 253 }), {
        maxItems: 16,
        description: 'Backends allowed to call the Service (mesh policies).',
      }),
    ),
    apex: Type.Optional(CustomMetadata('apex Service')),
    primary: Type.Optional(CustomMetadata('primary Service')),
    canary: Type.Optional(CustomMetadata('canary Service')),
  },
  {
    description: 'How the application is exposed: the generated Services and the router’s objects.',
  },
);

const HeaderMatch = Type.Object(
  {
    exact: Type.Optional(Type.String({ maxLength: 1024, description: 'Exact value.' })),
    prefix: Type.Optional(Type.String({ maxLength: 1024, description: 'Value prefix.' })),
    suffix: Type.Optional(Type.String({ maxLength: 1024, description: 'Value suffix.' })),
    regex: Type.Optional(Type.String({ maxLength: 1024, description: 'RE2 regular expression.' })),
  },
  {
    description: 'How a header (or query parameter) value matches; exactly one of the fields.',
    'x-kubernetes-validations': [
      {
        rule: '(has(self.exact) ? 1 : 0) + (has(self.prefix) ? 1 : 0) + (has(self.suffix) ? 1 : 0) + (has(self.regex) ? 1 : 0) == 1',
        message: 'exactly one of exact, prefix, suffix or regex must be set',
      },
    ],
  },
);

const AnalysisMatch = Type.Object(
  {
    headers: Type.Optional(
      MapOf(HeaderMatch, 'Request headers that route to the canary, by header name.', 16, {
        'x-kubernetes-validations': [headerNameRule('the keys of headers')],
      }),
    ),
    queryParams: Type.Optional(
      MapOf(HeaderMatch, 'Query parameters that route to the canary, by name.'),
    ),
    sourceLabels: Type.Optional(
      StringMap('Istio: source workload labels that route to the canary.', {
        maxProperties: 16,
      }),
    ),
  },
  { description: 'A request match for A/B testing: matching requests go to the canary.' },
);

const ThresholdRange = Type.Object(
  {
    min: Type.Optional(
      Type.Number({ description: 'The check fails when the value is below min.' }),
    ),
    max: Type.Optional(
      Type.Number({ description: 'The check fails when the value is above max.' }),
    ),
  },
  {
    description: 'Bounds the measured value must stay within.',
    'x-kubernetes-validations': [
      { rule: 'has(self.min) || has(self.max)', message: 'set min, max or both' },
      {
        rule: '!has(self.min) || !has(self.max) || self.min <= self.max',
        message: 'min must not exceed max',
      },
    ],
  },
);

const ComparePrimary = Type.Object(
  {
    maxDelta: Type.Optional(
      Type.Number({
        description:
          'The canary may be at most this much above the primary (e.g. 1 for one point of error rate).',
      }),
    ),
    minDelta: Type.Optional(
      Type.Number({
        description:
          'The canary must be at least the primary plus this (negative: how far below it may be, e.g. -1 for success rate).',
      }),
    ),
    maxRatio: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'The canary may be at most this multiple of the primary (e.g. 1.2 for latency).',
      }),
    ),
    minRatio: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'The canary must be at least this multiple of the primary.',
      }),
    ),
  },
  {
    description:
      'Bounds relative to the same query against the primary, judged at every step together with thresholdRange.',
    'x-kubernetes-validations': [
      {
        rule: 'has(self.maxDelta) || has(self.minDelta) || has(self.maxRatio) || has(self.minRatio)',
        message: 'set at least one of maxDelta, minDelta, maxRatio, minRatio',
      },
      {
        rule: '!has(self.maxRatio) || self.maxRatio > 0',
        message: 'maxRatio must be greater than 0',
        fieldPath: '.maxRatio',
      },
      {
        rule: '!has(self.minRatio) || !has(self.maxRatio) || self.minRatio <= self.maxRatio',
        message: 'minRatio must not exceed maxRatio',
        fieldPath: '.minRatio',
      },
    ],
  },
);

/** The judge's directions: which change of the metric counts against the canary. */
export const judgeDirections = ['increase', 'decrease', 'either'] as const;

const Judge = Type.Object(
  {
    method: Type.Optional(
      StringEnum(['mann-whitney'], {
        default: 'mann-whitney',
        description:
          'How the samples are compared: mann-whitney (the Hodges-Lehmann shift and its distribution-free interval).',
      }),
    ),
    direction: Type.Optional(
      StringEnum(judgeDirections, {
        default: 'increase',
        description:
          'Which change fails the canary: increase (default: latency, errors), decrease (throughput, success rate) or either.',
      }),
    ),
    confidence: Type.Optional(
      Type.Number({
        minimum: 0.5,
        maximum: 0.9999,
        default: 0.98,
        description: 'Confidence of the interval of the shift (default 0.98, as Kayenta).',
      }),
    ),
    tolerance: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 10,
        default: 0.05,
        description:
          'Change allowed, as a fraction of the primary’s median (default 0.05: 5 %). The canary fails only when the whole interval lies beyond it.',
      }),
    ),
    minSamples: Type.Optional(
      Type.Integer({
        minimum: 3,
        maximum: 10000,
        default: 10,
        description:
          'Fewest values a side for a verdict (default 10); fewer make the check inconclusive.',
      }),
    ),
    step: Type.Optional(
      Duration(
        'Resolution of the samples (default 5s): the window (the metric’s interval) gives one value per series per step, and {{ interval }} in the query is this step. At least twice the scrape interval.',
        durationBounds.judgeStep,
        { default: '5s' },
      ),
    ),
  },
  {
    description:
      'Judge the metric against the primary (same query, role swapped) by comparing their samples over the window, instead of, or as well as, bounds.',
  },
);

const MetricCheck = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      description:
        'Metric name. The built-ins request-success-rate and request-duration need no query or template.',
    }),
    interval: Type.Optional(
      Duration('Range of the query window (default 1m).', durationBounds.metricInterval),
    ),
    threshold: Type.Optional(
      Type.Number({ description: 'Deprecated in Flagger: use thresholdRange.max.' }),
    ),
    thresholdRange: Type.Optional(ThresholdRange),
    comparePrimary: Type.Optional(ComparePrimary),
    judge: Type.Optional(Judge),
    query: Type.Optional(
      Type.String({
        maxLength: 16384,
        description: 'Inline PromQL (deprecated in Flagger; prefer templateRef).',
      }),
    ),
    templateRef: Type.Optional(LocalRef('MetricTemplate')),
    templateVariables: Type.Optional(
      StringMap(
        'Values for {{ variables.x }} in the template: letters, digits and _ . : / - only, so that a value cannot change the query around it.',
        {
          maxProperties: maxTemplateVariables,
          valueMaxLength: templateVariableMaxLength,
          valuePattern: templateVariablePattern,
        },
      ),
    ),
  },
  {
    description: 'A metric checked at every analysis step.',
    'x-kubernetes-validations': [
      {
        rule: "self.name in ['request-success-rate', 'request-duration'] || has(self.templateRef) || has(self.query)",
        message:
          'a metric other than the built-ins request-success-rate and request-duration needs a templateRef',
      },
      {
        rule: '!(has(self.templateRef) && has(self.query))',
        message: 'set templateRef or query, not both',
      },
      {
        rule: '!has(self.templateVariables) || has(self.templateRef)',
        message: 'templateVariables need a templateRef',
        fieldPath: '.templateVariables',
      },
      {
        rule: '!(has(self.judge) && has(self.comparePrimary))',
        message: 'set judge or comparePrimary, not both: both compare with the primary',
        fieldPath: '.judge',
      },
      {
        rule: "!has(self.judge) || !has(self.judge.step) || duration(self.judge.step) <= duration(has(self.interval) ? self.interval : '1m')",
        message: 'judge.step must not be longer than the window (interval, default 1m)',
        fieldPath: '.judge.step',
      },
    ],
  },
);

const Webhook = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      description: 'Name of the webhook, shown in history and alerts.',
    }),
    type: Type.Optional(
      StringEnum(webhookTypes, {
        default: 'rollout',
        description:
          'When the webhook runs: confirm-rollout, pre-rollout, rollout (default), confirm-traffic-increase, confirm-promotion, post-rollout, rollback, event.',
      }),
    ),
    url: HttpUrl('URL Weir POSTs to.'),
    muteAlert: Type.Optional(
      Type.Boolean({ description: 'Do not send an alert when this webhook fails.' }),
    ),
    timeout: Type.Optional(
      Duration('Request timeout (default 10s).', durationBounds.webhookTimeout),
    ),
    retries: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10, description: 'Retries on failure.' }),
    ),
    metadata: Type.Optional(StringMap('Sent as `metadata` in the payload.', { maxProperties: 32 })),
    insecureSkipVerify: Type.Optional(
      Type.Boolean({ description: 'Skip TLS verification of an https URL (not recommended).' }),
    ),
  },
  { description: 'A webhook called during the release.' },
);

const Alert = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63, description: 'Name of the alert.' }),
    severity: Type.Optional(
      StringEnum(['info', 'warn', 'error'], {
        default: 'info',
        description: 'Lowest severity sent: info, warn or error.',
      }),
    ),
    providerRef: LocalRef('AlertProvider'),
    includeSteps: Type.Optional(
      Type.Boolean({
        description: 'Also send a message at every analysis step (off by default).',
      }),
    ),
  },
  { description: 'Where and what to notify.' },
);

const SessionAffinity = Type.Object(
  {
    cookieName: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Cookie that pins a user to the canary.',
    }),
    primaryCookieName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Cookie that pins a user to the primary after promotion.',
      }),
    ),
    maxAge: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 86400,
        description: 'Cookie lifetime in seconds (default 86400).',
      }),
    ),
  },
  {
    description: 'Session affinity: users who reached the canary keep reaching it.',
    'x-kubernetes-validations': [
      {
        rule: '!has(self.primaryCookieName) || self.primaryCookieName != self.cookieName',
        message: 'primaryCookieName must differ from cookieName',
        fieldPath: '.primaryCookieName',
      },
    ],
  },
);

const Weight = (description: string) => Type.Integer({ minimum: 0, maximum: 100, description });

/** spec.analysis: the schedule and the checks of a release. */
export const CanaryAnalysisSchema = Type.Object(
  {
    interval: Type.Optional(
      Duration(
        'Time between analysis steps (default 1m), from 10s to 24h: Flagger clamps shorter ones, Weir rejects them.',
        durationBounds.analysisInterval,
        { default: '1m' },
      ),
    ),
    iterations: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'Blue/green and A/B: number of analysis steps before promotion.',
      }),
    ),
    threshold: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1,
        description: 'Failed checks that roll the release back (default 1).',
      }),
    ),
    inconclusiveLimit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        default: 5,
        description:
          'Inconclusive steps in a row (a provider error, no data or too few samples for the judge) that roll the release back (default 5). An inconclusive step holds the weight.',
      }),
    ),
    maxWeight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Canary weight at which promotion starts (stepWeight strategy).',
      }),
    ),
    stepWeight: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: 'Weight added at each step.' }),
    ),
    stepWeights: Type.Optional(
      Type.Array(Weight('A weight.'), {
        minItems: 1,
        maxItems: 100,
        description: 'Explicit weights of each step, strictly increasing, each at most 100.',
        'x-kubernetes-validations': [
          {
            rule: 'self.isSorted() && self.all(w, self.exists_one(v, v == w))',
            message: 'stepWeights must be strictly increasing',
          },
        ],
      }),
    ),
    stepWeightPromotion: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Weight shifted to the primary at each promotion step (default: all at once).',
      }),
    ),
    mirror: Type.Optional(
      Type.Boolean({
        description:
          'Mirror a copy of the traffic (mirrorWeight percent) to the canary before shifting any.',
      }),
    ),
    mirrorWeight: Type.Optional(Weight('Percentage of traffic mirrored.')),
    primaryReadyThreshold: Type.Optional(
      Weight('Percentage of primary pods that must be ready (default 100).'),
    ),
    canaryReadyThreshold: Type.Optional(
      Weight('Percentage of canary pods that must be ready (default 100).'),
    ),
    match: Type.Optional(
      Type.Array(AnalysisMatch, {
        minItems: 1,
        maxItems: 16,
        description: 'A/B testing: requests matching any entry go to the canary. Needs iterations.',
      }),
    ),
    metrics: Type.Optional(
      Type.Array(MetricCheck, { maxItems: 32, description: 'Metrics checked at every step.' }),
    ),
    webhooks: Type.Optional(
      Type.Array(Webhook, { maxItems: 32, description: 'Webhooks called during the release.' }),
    ),
    alerts: Type.Optional(
      Type.Array(Alert, { maxItems: 16, description: 'Notifications for this Canary.' }),
    ),
    sessionAffinity: Type.Optional(SessionAffinity),
  },
  { description: 'The analysis: how often to step, how traffic moves, and what is checked.' },
);

const analysisRules = withRules(CanaryAnalysisSchema, [
  {
    rule: '!(has(self.stepWeight) && has(self.stepWeights))',
    message: 'set stepWeight or stepWeights, not both',
    fieldPath: '.stepWeights',
  },
  {
    rule: '!has(self.match) || has(self.iterations)',
    message: 'match (A/B testing) needs iterations',
    fieldPath: '.match',
  },
  {
    rule: 'has(self.iterations) || has(self.stepWeight) || has(self.stepWeights)',
    message: 'set stepWeight or stepWeights (canary) or iterations (blue/green, A/B)',
  },
  {
    rule: '!has(self.stepWeight) || !has(self.maxWeight) || self.stepWeight <= self.maxWeight',
    message: 'stepWeight must not exceed maxWeight',
    fieldPath: '.stepWeight',
  },
]);

/** spec of a Canary. */
export const CanarySpecSchema = Type.Object(
  {
    provider: Type.Optional(
      Type.String({
        maxLength: 63,
        pattern: '^[a-z0-9-]+(:[a-z0-9]+)?$',
        description:
          'Traffic router: gatewayapi (or gatewayapi:v1), kubernetes, istio, linkerd, nginx, traefik, contour, apisix, kuma, skipper. Defaults to the controller’s --provider.',
      }),
    ),
    metricsServer: Type.Optional(
      HttpUrl('Prometheus URL for the built-in metrics; defaults to the controller’s.'),
    ),
    targetRef: TargetRef,
    autoscalerRef: Type.Optional(AutoscalerRef),
    ingressRef: Type.Optional(IngressRef),
    routeRef: Type.Optional(RouteRef),
    service: CanaryServiceSchema,
    analysis: analysisRules,
    progressDeadlineSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: maxProgressDeadlineSeconds,
        default: 600,
        description:
          'Seconds a rollout may take to become ready before it is rolled back (default 600, at most 86400).',
      }),
    ),
    skipAnalysis: Type.Optional(
      Type.Boolean({ default: false, description: 'Promote without analysis.' }),
    ),
    revertOnDeletion: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'On deletion, restore the target and routing as they were before Weir.',
      }),
    ),
    suspend: Type.Optional(
      Type.Boolean({ default: false, description: 'Pause the release where it is.' }),
    ),
  },
  { description: 'What to release and how.' },
);

const Condition = Type.Object(
  {
    type: Type.String({ maxLength: 316, description: 'Condition type: Ready, Promoted.' }),
    status: StringEnum(['True', 'False', 'Unknown'], { description: 'True, False or Unknown.' }),
    reason: Type.String({
      maxLength: 1024,
      description: 'CamelCase reason for the last transition.',
    }),
    message: Type.Optional(
      Type.String({ maxLength: 32768, description: 'Human-readable detail.' }),
    ),
    lastTransitionTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the status last changed.' }),
    ),
    lastUpdateTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the condition was last written.' }),
    ),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Generation the condition was computed for.' }),
    ),
  },
  { description: 'A kstatus-compatible condition.' },
);

/** status of a Canary, written by the controller only. */
export const CanaryStatusSchema = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(canaryPhases, { description: 'Release phase (Flagger-compatible).' }),
    ),
    canaryWeight: Type.Optional(Weight('Current traffic weight of the canary.')),
    failedChecks: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Failed checks of the current release.' }),
    ),
    inconclusiveChecks: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Inconclusive steps in a row in the current release (see inconclusiveLimit).',
      }),
    ),
    iterations: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Analysis steps done in the current release.' }),
    ),
    lastAppliedSpec: Type.Optional(
      Type.String({ maxLength: 64, description: 'Revision (hash) of the target being released.' }),
    ),
    lastPromotedSpec: Type.Optional(
      Type.String({ maxLength: 64, description: 'Revision (hash) last promoted.' }),
    ),
    trackedConfigs: Type.Optional(
      StatusStringMap('Hashes of the ConfigMaps and Secrets the target uses.'),
    ),
    lastTransitionTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the phase last changed.' }),
    ),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Generation last acted on.' }),
    ),
    conditions: Type.Optional(
      Type.Array(Condition, { maxItems: 16, description: 'Ready and Promoted conditions.' }),
    ),
    currentRun: Type.Optional(
      Type.String({ maxLength: 253, description: 'Name of the CanaryRun of the current release.' }),
    ),
    machine: Type.Optional(
      Passthrough(
        'Persisted state of the release machine (versioned); lets a restarted controller resume the same step.',
      ),
    ),
  },
  { description: 'Observed state of the release.' },
);

export type CanarySpec = Static<typeof CanarySpecSchema>;
export type CanaryStatus = Static<typeof CanaryStatusSchema>;
export type CanaryAnalysis = Static<typeof CanaryAnalysisSchema>;
export type MetricCheck = Static<typeof MetricCheck>;
export type CanaryService = Static<typeof CanaryServiceSchema>;
export type WebhookType = (typeof webhookTypes)[number];
export type CanaryPhase = (typeof canaryPhases)[number];
