import {
  Type,
  type SchemaOptions,
  type Static,
  type TSchema,
  type TUnsafe,
} from '@sinclair/typebox';
import { headerNameMaxLength, headerNamePattern, type DurationBounds } from './limits.js';

/**
 * Helpers that keep the TypeBox definitions within what a structural CRD schema
 * allows (no anyOf/const), while TypeScript still infers precise types.
 */

/** A CEL rule checked by the API server (x-kubernetes-validations) and by `weir lint`. */
export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath-like path relative to the object, e.g. `.stepWeights`, where the error is reported. */
  fieldPath?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** Options every Weir schema node may carry, in addition to TypeBox's own. */
export interface KubeOptions extends SchemaOptions {
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
}

/** A string limited to the given values. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: KubeOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `x-kubernetes-int-or-string`: a port number or a port name. */
export function IntOrString(options: KubeOptions = {}): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({ 'x-kubernetes-int-or-string': true, ...options });
}

/** An object whose content belongs to another project's API and is passed through as is. */
export function Passthrough(description: string): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    description,
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

/** Go duration pattern as Flagger accepts it: `30s`, `1m`, `1m30s`, `500ms`, `1h`. */
export const durationPattern = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/**
 * A Go-style duration string, bounded by CEL rules (the API server and `weir lint`
 * evaluate the same text). Every duration an author writes has an upper bound:
 * an unbounded one becomes a timer or a timeout that overflows, or a query
 * window no shared Prometheus should run.
 */
export function Duration(description: string, bounds: DurationBounds, options: KubeOptions = {}) {
  const rules: CelRule[] = [];
  if (bounds.min)
    rules.push({
      rule: `duration(self) >= duration('${bounds.min}')`,
      message: `must be at least ${bounds.min}`,
    });
  rules.push({
    rule: `duration(self) <= duration('${bounds.max}')`,
    message: `must be at most ${bounds.max}`,
  });
  return Type.String({
    description,
    pattern: durationPattern,
    maxLength: 32,
    'x-kubernetes-validations': rules,
    ...options,
  });
}

/** RFC 1123 label (names of Services, namespaces, ports). */
export const dnsLabelPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1123 subdomain (names of most Kubernetes objects). */
export const objectNamePattern =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** A DNS-1123 label: the name of a Service, a namespace, a port name. */
export function DnsLabel(description: string, options: KubeOptions = {}) {
  return Type.String({
    description,
    maxLength: 63,
    pattern: dnsLabelPattern,
    ...options,
  });
}

/** A DNS-1123 subdomain: the name of most Kubernetes objects. */
export function ObjectName(description: string, options: KubeOptions = {}) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 253,
    pattern: objectNamePattern,
    ...options,
  });
}

/** An http(s) URL, checked by the API server and by `weir lint` with the same CEL rule. */
export function HttpUrl(description: string, options: KubeOptions = {}) {
  return Type.String({
    description,
    maxLength: 2048,
    'x-kubernetes-validations': [
      {
        rule: "isURL(self) && self.matches('^https?://[^/?#]+')",
        message: 'must be an http or https URL',
      },
    ],
    ...options,
  });
}

/** Limits of a {@link StringMap}: every map an author writes has a maximum number of entries. */
export interface StringMapLimits {
  maxProperties: number;
  /** Longest value (default 4096). */
  valueMaxLength?: number;
  /** Pattern every value must match. */
  valuePattern?: string;
}

/** A map of string to string (labels, annotations, variables). */
export function StringMap(
  description: string,
  limits: StringMapLimits,
  options: KubeOptions = {},
): TUnsafe<Record<string, string>> {
  // Written out rather than Type.Record, which emits patternProperties: CRD schemas need additionalProperties.
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    maxProperties: limits.maxProperties,
    additionalProperties: {
      type: 'string',
      maxLength: limits.valueMaxLength ?? 4096,
      ...(limits.valuePattern ? { pattern: limits.valuePattern } : {}),
    },
    ...options,
  });
}

/**
 * A map written by the controller only (status), where a bound would make the
 * controller's own write fail rather than stop a hostile author.
 */
export function StatusStringMap(description: string): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    additionalProperties: { type: 'string', maxLength: 4096 },
  });
}

/**
 * CEL rule for a map keyed by HTTP header names: each key an RFC 7230 token of at
 * most 256 characters. CRD schemas cannot constrain map keys otherwise.
 */
export function headerNameRule(what: string): CelRule {
  return {
    rule: `self.all(k, k.size() <= ${headerNameMaxLength} && k.matches("${headerNamePattern}"))`,
    message: `${what} must be HTTP header names: RFC 7230 tokens (letters, digits and !#$%&'*+-.^_\`|~) of at most ${headerNameMaxLength} characters`,
  };
}

/** A map of string to a schema. */
export function MapOf<T extends TSchema>(
  value: T,
  description: string,
  maxProperties = 16,
  options: KubeOptions = {},
): TUnsafe<Record<string, Static<T>>> {
  // maxProperties bounds the API server's CEL cost estimate for rules inside `value`.
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    description,
    maxProperties,
    additionalProperties: value,
    ...options,
  });
}

/** Adds CEL rules to an object schema. */
export function withRules<T extends TSchema>(schema: T, rules: CelRule[]): T {
  return { ...schema, 'x-kubernetes-validations': rules };
}
