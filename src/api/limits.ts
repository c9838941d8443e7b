/**
 * Bounds on what a Canary's author may write, shared by the CRD schema (checked
 * by the API server and `weir lint`) and the code that uses the values, which
 * enforces them again for objects admitted under an older CRD. A Canary's author
 * is not trusted: see docs/adr/0012-untrusted-canary-input.md.
 */

/** Lower and upper bound of a duration field, as Go-style strings the CEL rules compare. */
export interface DurationBounds {
  /** Omitted where zero has a meaning (a route timeout of `0s` turns the timeout off). */
  min?: string;
  max: string;
}

/** Duration bounds per field. */
export const durationBounds = {
  /** `analysis.interval`: Flagger clamps below 10s; above a day a step timer is meaningless. */
  analysisInterval: { min: '10s', max: '24h' },
  /** `metrics[].interval`: the query window; a wider one is a heavy query on a shared Prometheus. */
  metricInterval: { min: '1s', max: '24h' },
  /** `metrics[].judge.step`: the resolution of the judge's samples (one per series per step). */
  judgeStep: { min: '1s', max: '1h' },
  /** `webhooks[].timeout`: one call; longer ones are cut by the step's own deadline anyway. */
  webhookTimeout: { min: '100ms', max: '5m' },
  /** MetricTemplate `provider.timeout`: one query. */
  queryTimeout: { min: '100ms', max: '5m' },
  /** `service.timeout` and `service.retries.perTryTimeout`: handed to the router, never a Weir timer. */
  routeTimeout: { max: '24h' },
} as const satisfies Record<string, DurationBounds>;

/** `progressDeadlineSeconds` at most a day. */
export const maxProgressDeadlineSeconds = 86_400;

/**
 * What a `templateVariables` value may contain. It forbids every character that
 * can end a PromQL string or start an expression (`" ' \` `` ` `` `{ } [ ] ( ) # , = ! ~ |`,
 * spaces, control characters), so a value inside a quoted matcher cannot escape it.
 */
export const templateVariablePattern = '^[A-Za-z0-9_.:/-]*$';
/** Longest `templateVariables` value: a DNS subdomain. */
export const templateVariableMaxLength = 253;
/** Most `templateVariables` per metric. */
export const maxTemplateVariables = 32;

/**
 * An HTTP header name: an RFC 7230 token (as Gateway API's HTTPHeaderName), as a
 * CEL-compatible RE2 pattern.
 */
export const headerNamePattern = "^[-!#$%&'*+.^_`|~0-9A-Za-z]+$";
/** Longest header name, as Gateway API allows. */
export const headerNameMaxLength = 256;
/**
 * Header names a MetricTemplate may not set: they decide where and how the
 * request is framed (virtual host, body length), which is the controller's job.
 */
export const reservedHeaderNames = [
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
] as const;

/** Most namespaces a MetricTemplate or AlertProvider may list in `spec.allowedNamespaces`. */
export const maxAllowedNamespaces = 64;
