import type { CanaryService } from '../api/canary-schema.js';
import type { ServiceFieldSupport } from './service-fields.js';

/**
 * The pure translation of spec.service's routing fields into Gateway API HTTPRoute
 * parts, as Flagger's gatewayapi router does: `match` (Istio HTTPMatchRequests)
 * becomes HTTPRouteMatches, `headers`, `rewrite` and `mirror` become rule filters.
 * What an HTTPRoute cannot express is an error naming the field, for unsupported().
 */

type Json = Record<string, unknown>;

/** A Gateway API header or query parameter match. */
export interface ValueMatch {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A Gateway API value match for a string match (exact, prefix, suffix or regex).
 * The standard channel matches values exactly or by regular expression, so a
 * prefix or suffix becomes an anchored regular expression.
 */
export function valueMatch(
  name: string,
  m: { exact?: string; prefix?: string; suffix?: string; regex?: string },
): ValueMatch {
  if (m.exact !== undefined) return { type: 'Exact', name, value: m.exact };
  if (m.prefix !== undefined)
    return { type: 'RegularExpression', name, value: `^${escape(m.prefix)}.*` };
  if (m.suffix !== undefined)
    return { type: 'RegularExpression', name, value: `.*${escape(m.suffix)}$` };
  return { type: 'RegularExpression', name, value: m.regex ?? '.*' };
}

const advice = {
  retries:
    "the standard Gateway API HTTPRoute has no retry policy; configure retries with your Gateway implementation's own policy resource, and remove it",
  corsPolicy:
    "the standard Gateway API HTTPRoute has no CORS filter; configure CORS with your Gateway implementation's own policy resource, and remove it",
  trafficPolicy:
    "it is an Istio DestinationRule policy; configure load balancing, TLS and outlier detection with your Gateway implementation's policies (such as BackendTLSPolicy), and remove it",
  gateways:
    'it lists Istio gateways; with the gatewayapi provider, list the parent Gateways in spec.service.gatewayRefs',
  delegation:
    'VirtualService delegation is an Istio feature; attach the HTTPRoute to its parents with spec.service.gatewayRefs, and remove it',
};

/** The routing fields the generated HTTPRoute carries. */
export const gatewayApiServiceFields: ServiceFieldSupport = {
  honoured: ['gatewayRefs', 'hosts', 'match', 'rewrite', 'headers', 'timeout', 'mirror'],
  instead: advice,
};

const isRecord = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const stringKinds = ['exact', 'prefix', 'suffix', 'regex'] as const;

/** The one string-match kind of `m` and its value, or undefined when it has not exactly one. */
function oneKind(m: unknown, kinds: readonly string[]): [string, string] | undefined {
  if (!isRecord(m)) return undefined;
  const keys = Object.keys(m);
  if (keys.length !== 1 || !kinds.includes(keys[0]!) || typeof m[keys[0]!] !== 'string')
    return undefined;
  return [keys[0]!, m[keys[0]!] as string];
}

function valueMatches(at: string, record: unknown): ValueMatch[] | { error: string } {
  if (!isRecord(record)) return { error: `${at} must map names to string matches` };
  const out: ValueMatch[] = [];
  for (const [name, m] of Object.entries(record)) {
    const kind = oneKind(m, stringKinds);
    if (!kind)
      return { error: `${at}.${name} needs exactly one of exact, prefix, suffix or regex` };
    out.push(valueMatch(name, { [kind[0]]: kind[1] }));
  }
  return out;
}

const pathTypes: Record<string, string> = {
  exact: 'Exact',
  prefix: 'PathPrefix',
  regex: 'RegularExpression',
};
const matchKeys = ['uri', 'method', 'headers', 'queryParams'];

/** The HTTPRouteMatches of spec.service.match, or what an HTTPRoute cannot express. */
export function serviceMatches(s: CanaryService): Json[] | { error: string } {
  const out: Json[] = [];
  for (const [i, m] of (s.match ?? []).entries()) {
    const at = `spec.service.match[${i}]`;
    const other = Object.keys(m).filter((k) => !matchKeys.includes(k));
    if (other.length > 0)
      return {
        error: `${at}.${other.join(', ')} cannot be expressed in a Gateway API HTTPRoute: the gatewayapi provider matches uri, method, headers and queryParams`,
      };
    const match: Json = {};
    if (m.uri !== undefined) {
      const kind = oneKind(m.uri, Object.keys(pathTypes));
      if (!kind) return { error: `${at}.uri needs exactly one of exact, prefix or regex` };
      match.path = { type: pathTypes[kind[0]], value: kind[1] };
    }
    if (m.method !== undefined) {
      const kind = oneKind(m.method, ['exact']);
      if (!kind)
        return { error: `${at}.method: a Gateway API HTTPRoute matches a method exactly only` };
      match.method = kind[1];
    }
    for (const key of ['headers', 'queryParams'] as const) {
      if (m[key] === undefined) continue;
      const values = valueMatches(`${at}.${key}`, m[key]);
      if ('error' in values) return values;
      if (values.length > 0) match[key] = values;
    }
    out.push(match);
  }
  return out;
}

/** Replaces entries of `base` by name with those of `extra`, and adds the others. */
function byName(base: unknown, extra: unknown): ValueMatch[] | undefined {
  const b = (base ?? []) as ValueMatch[];
  const e = (extra ?? []) as ValueMatch[];
  if (b.length + e.length === 0) return undefined;
  return [...b.filter((x) => !e.some((y) => y.name === x.name)), ...e];
}

/**
 * Every extra match (A/B, affinity cookie) narrowed by every match of
 * spec.service.match, so a rule for the canary still routes only the requests
 * the application's route covers. A header or parameter both name is the extra's.
 */
export function mergeMatches(extra: Json[], base: Json[]): Json[] {
  if (base.length === 0) return extra;
  return extra.flatMap((e) =>
    base.map((b) => {
      const merged: Json = { ...b, ...e };
      for (const key of ['headers', 'queryParams']) {
        const list = byName(b[key], e[key]);
        if (list) merged[key] = list;
      }
      return merged;
    }),
  );
}

type Modifier = { add?: Json[]; set?: Json[]; remove?: string[] };

function headerModifier(at: string, ops: unknown): Modifier | { error: string } {
  if (!isRecord(ops)) return { error: `${at} must be an object with add, set or remove` };
  const out: Modifier = {};
  for (const [op, value] of Object.entries(ops)) {
    if (op === 'remove') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
        return { error: `${at}.remove must be a list of header names` };
      if (value.length > 0) out.remove = value as string[];
    } else if (op === 'add' || op === 'set') {
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string'))
        return { error: `${at}.${op} must map header names to values` };
      const list = Object.entries(value).map(([name, v]) => ({ name, value: v }));
      if (list.length > 0) out[op] = list;
    } else {
      return { error: `${at}.${op} is not a header operation: use add, set or remove` };
    }
  }
  return out;
}

const filterOf = (type: string, key: string, value: unknown): Json => ({ type, [key]: value });

/**
 * The rule filters of spec.service: header modifiers (Istio's request/response
 * add, set and remove), the URL rewrite and the mirror backends, or what an
 * HTTPRoute cannot express. A rewrite without a type replaces the full path, as
 * in Flagger.
 */
export function serviceFilters(s: CanaryService): Json[] | { error: string } {
  const filters: Json[] = [];
  if (s.headers !== undefined) {
    if (!isRecord(s.headers))
      return { error: 'spec.service.headers must be an object with request or response' };
    for (const [side, ops] of Object.entries(s.headers)) {
      const type = { request: 'RequestHeaderModifier', response: 'ResponseHeaderModifier' }[side];
      if (!type)
        return {
          error: `spec.service.headers.${side}: headers are changed on request or response`,
        };
      const modifier = headerModifier(`spec.service.headers.${side}`, ops);
      if ('error' in modifier) return modifier;
      const key = side === 'request' ? 'requestHeaderModifier' : 'responseHeaderModifier';
      if (Object.keys(modifier).length > 0) filters.push(filterOf(type, key, modifier));
    }
  }
  const rewrite = s.rewrite;
  if (rewrite && (rewrite.uri !== undefined || rewrite.authority !== undefined)) {
    const type = rewrite.type ?? 'ReplaceFullPath';
    const path =
      rewrite.uri === undefined
        ? undefined
        : type === 'ReplacePrefixMatch'
          ? { type, replacePrefixMatch: rewrite.uri }
          : { type, replaceFullPath: rewrite.uri };
    filters.push(
      filterOf('URLRewrite', 'urlRewrite', {
        ...(rewrite.authority !== undefined ? { hostname: rewrite.authority } : {}),
        ...(path ? { path } : {}),
      }),
    );
  }
  for (const m of s.mirror ?? []) {
    const b = m.backendRef;
    filters.push(
      filterOf('RequestMirror', 'requestMirror', {
        backendRef: {
          group: b.group ?? '',
          kind: b.kind ?? 'Service',
          name: b.name,
          ...(b.namespace ? { namespace: b.namespace } : {}),
          ...(b.port ? { port: b.port } : {}),
        },
      }),
    );
  }
  return filters;
}

/**
 * Adds a rule's own filters to spec.service's. A rule holds at most one
 * ResponseHeaderModifier, so the rule's own one (a Set-Cookie) joins spec.service's.
 */
export function withFilters(service: Json[], own: Json[]): Json[] {
  const out = service.map((f) => ({ ...f }));
  for (const f of own) {
    const same = out.find((o) => o.type === f.type && f.type === 'ResponseHeaderModifier');
    if (!same) {
      out.push(f);
      continue;
    }
    const a = same.responseHeaderModifier as Modifier;
    const b = f.responseHeaderModifier as Modifier;
    same.responseHeaderModifier = { ...a, add: [...(a.add ?? []), ...(b.add ?? [])] };
  }
  return out;
}

/** What the HTTPRoute cannot express of spec.service's honoured fields, or undefined. */
export function serviceRouteProblem(s: CanaryService): string | undefined {
  const matches = serviceMatches(s);
  if ('error' in matches) return matches.error;
  const filters = serviceFilters(s);
  if ('error' in filters) return filters.error;
  if (s.rewrite?.uri !== undefined && s.rewrite.type === 'ReplacePrefixMatch') {
    const path = matches[0]?.path as { type?: string } | undefined;
    if (matches.length > 1 || (matches.length === 1 && path?.type !== 'PathPrefix'))
      return 'spec.service.rewrite.type ReplacePrefixMatch needs one path prefix to replace: give spec.service.match a single entry with uri.prefix (or none, for "/"), or use ReplaceFullPath';
  }
  return undefined;
}
