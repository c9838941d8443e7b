import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { evaluateRule } from './cel.js';
import { kinds, plainSchema, type KindDefinition } from '../api/crds.js';
import { dnsLabelPattern, objectNamePattern, type CelRule } from '../api/schema-helpers.js';
import { joinPath } from './yaml-source.js';

/** One problem found in a document: the field path and what was expected. */
export interface Violation {
  /** Field path as Kubernetes prints it, e.g. `spec.analysis.stepWeights[1]`. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

type Schema = Record<string, unknown>;

const dnsSubdomain = new RegExp(objectNamePattern);
const dnsLabel = new RegExp(dnsLabelPattern);

/**
 * The lint schema is the CRD schema made strict: unknown fields are errors (as
 * with kubectl's default strict field validation), except under
 * x-kubernetes-preserve-unknown-fields, which passes other projects' objects through.
 */
function strict(schema: Schema): Schema {
  const copy: Schema = { ...schema };
  if (copy.properties && typeof copy.properties === 'object') {
    copy.properties = Object.fromEntries(
      Object.entries(copy.properties as Record<string, Schema>).map(([k, v]) => [k, strict(v)]),
    );
    if (!copy['x-kubernetes-preserve-unknown-fields'] && copy.additionalProperties === undefined) {
      copy.additionalProperties = false;
    }
  }
  if (copy.items && typeof copy.items === 'object') copy.items = strict(copy.items as Schema);
  if (copy.additionalProperties && typeof copy.additionalProperties === 'object') {
    copy.additionalProperties = strict(copy.additionalProperties as Schema);
  }
  return copy;
}

// verbose: errors carry the offending value, so messages can say what was found.
const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
ajv.addKeyword({
  keyword: 'x-kubernetes-int-or-string',
  schemaType: 'boolean',
  validate: (enabled: boolean, data: unknown) =>
    !enabled || (typeof data === 'number' && Number.isInteger(data)) || typeof data === 'string',
  errors: false,
});
for (const keyword of [
  'x-kubernetes-validations',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
]) {
  ajv.addKeyword({ keyword });
}

interface CompiledKind {
  def: KindDefinition;
  spec: Schema;
  validateSpec: ValidateFunction;
}

const compiledKinds = new Map<string, CompiledKind>();
function compiledKind(kind: string): CompiledKind | undefined {
  const def = kinds.find((k) => k.kind === kind);
  if (!def) return undefined;
  let c = compiledKinds.get(kind);
  if (!c) {
    const spec = plainSchema(def.spec);
    c = { def, spec, validateSpec: ajv.compile(strict(spec)) };
    compiledKinds.set(kind, c);
  }
  return c;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}

/** Turns an Ajv instance pointer into a Kubernetes field path, using the schema to tell fields from map keys. */
function pointerToPath(base: string, pointer: string, schema: Schema): string {
  let path = base;
  let node: Schema | undefined = schema;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const props = node?.properties as Record<string, Schema> | undefined;
    if (node?.items && /^\d+$/.test(seg)) {
      path = joinPath(path, Number(seg));
      node = node.items as Schema;
    } else if (props?.[seg]) {
      path = joinPath(path, seg);
      node = props[seg];
    } else if (node && typeof node.additionalProperties === 'object') {
      // The API server's schema validator names a map value `map.key` (kube-openapi's
      // objectValidator), while its CEL validator says `map[key]` (field.Path.Key).
      path = joinPath(path, seg);
      node = node.additionalProperties as Schema;
    } else {
      path = joinPath(path, seg);
      node = undefined;
    }
  }
  return path;
}

function fromAjv(e: ErrorObject, base: string, schema: Schema): Violation {
  const path = pointerToPath(base, e.instancePath, schema);
  const p = e.params as Record<string, unknown>;
  const got = describe(e.data);
  switch (e.keyword) {
    case 'additionalProperties':
      return {
        path: joinPath(path, String(p.additionalProperty)),
        message: `unknown field "${String(p.additionalProperty)}"`,
        severity: 'error',
      };
    case 'required':
      return {
        path: joinPath(path, String(p.missingProperty)),
        message: `required field is missing`,
        severity: 'error',
      };
    case 'type':
      return { path, message: `expected ${String(p.type)}, got ${got}`, severity: 'error' };
    case 'enum':
      return {
        path,
        message: `expected one of ${(p.allowedValues as unknown[]).map((v) => `"${String(v)}"`).join(', ')}, got ${got}`,
        severity: 'error',
      };
    case 'minimum':
    case 'maximum':
      return {
        path,
        message: `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(p.limit)}, got ${got}`,
        severity: 'error',
      };
    case 'minLength':
    case 'maxLength':
      return {
        path,
        message: `must be ${e.keyword === 'minLength' ? 'at least' : 'at most'} ${String(p.limit)} characters, got ${String((e.data as string).length)}`,
        severity: 'error',
      };
    case 'minItems':
    case 'maxItems':
      return {
        path,
        message: `must have ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${String(p.limit)} items`,
        severity: 'error',
      };
    case 'maxProperties':
      return { path, message: `must have at most ${String(p.limit)} entries`, severity: 'error' };
    case 'pattern':
      return { path, message: `must match ${String(p.pattern)}, got ${got}`, severity: 'error' };
    case 'x-kubernetes-int-or-string':
      return { path, message: `expected an integer or a string, got ${got}`, severity: 'error' };
    default:
      return { path, message: e.message ?? e.keyword, severity: 'error' };
  }
}

/** Converts a value to what CEL sees under the schema: integer fields become CEL ints. */
function celValue(value: unknown, schema: Schema | undefined): unknown {
  if (schema?.type === 'integer' && typeof value === 'number' && Number.isInteger(value))
    return BigInt(value);
  if (Array.isArray(value))
    return value.map((v) => celValue(v, schema?.items as Schema | undefined));
  if (value && typeof value === 'object') {
    const props = (schema?.properties ?? {}) as Record<string, Schema>;
    const extra =
      typeof schema?.additionalProperties === 'object'
        ? (schema.additionalProperties as Schema)
        : undefined;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, celValue(v, props[k] ?? extra)]),
    );
  }
  return value;
}

/** Walks schema and value together and evaluates every x-kubernetes-validations rule. */
function checkRules(schema: Schema, value: unknown, path: string, out: Violation[]): void {
  if (value === undefined || value === null) return;
  const rules = schema['x-kubernetes-validations'] as CelRule[] | undefined;
  if (rules) {
    const self = celValue(value, schema);
    for (const r of rules) {
      const outcome = evaluateRule(r.rule, self);
      if (!outcome.ok) {
        const at = r.fieldPath ? path + r.fieldPath : path;
        out.push({
          path: at,
          message: outcome.error ? `${r.message} (${outcome.error})` : r.message,
          severity: 'error',
        });
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => checkRules(schema.items as Schema, v, joinPath(path, i), out));
  } else if (typeof value === 'object') {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const extra =
      typeof schema.additionalProperties === 'object'
        ? (schema.additionalProperties as Schema)
        : undefined;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (props[k]) checkRules(props[k], v, joinPath(path, k), out);
      else if (extra) checkRules(extra, v, joinPath(path, k, true), out);
    }
  }
}

function checkStringMap(value: unknown, path: string, out: Violation[]): number {
  if (value === undefined) return 0;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    out.push({
      path,
      message: `expected a map of strings, got ${describe(value)}`,
      severity: 'error',
    });
    return 0;
  }
  let size = 0;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      out.push({
        path: joinPath(path, k, true),
        message: `expected string, got ${describe(v)}`,
        severity: 'error',
      });
    else size += k.length + v.length;
  }
  return size;
}

/** Checks metadata the way the API server does for custom resources. */
function checkMetadata(metadata: unknown, out: Violation[]): void {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
    out.push({ path: 'metadata', message: 'required field is missing', severity: 'error' });
    return;
  }
  const m = metadata as Record<string, unknown>;
  if (m.name === undefined && m.generateName === undefined) {
    out.push({ path: 'metadata.name', message: 'required field is missing', severity: 'error' });
  } else if (
    m.name !== undefined &&
    (typeof m.name !== 'string' || m.name.length > 253 || !dnsSubdomain.test(m.name))
  ) {
    out.push({
      path: 'metadata.name',
      message: `must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.'), at most 253 characters, got ${describe(m.name)}`,
      severity: 'error',
    });
  }
  if (
    m.namespace !== undefined &&
    (typeof m.namespace !== 'string' || m.namespace.length > 63 || !dnsLabel.test(m.namespace))
  ) {
    out.push({
      path: 'metadata.namespace',
      message: `must be a lowercase RFC 1123 label, got ${describe(m.namespace)}`,
      severity: 'error',
    });
  }
  checkStringMap(m.labels, 'metadata.labels', out);
  const annotationBytes = checkStringMap(m.annotations, 'metadata.annotations', out);
  if (annotationBytes > 256 * 1024) {
    out.push({
      path: 'metadata.annotations',
      message: `too long: must have at most 262144 bytes, got ${annotationBytes}`,
      severity: 'error',
    });
  }
}

/** True when the document claims to be one of Weir's kinds (group weir.dev). */
export function isWeirDocument(doc: unknown): boolean {
  const apiVersion = (doc as { apiVersion?: unknown } | null)?.apiVersion;
  return (
    typeof apiVersion === 'string' &&
    (apiVersion === 'weir.dev' || apiVersion.startsWith('weir.dev/'))
  );
}

/**
 * Validates one Weir document against the same schema and CEL rules the API
 * server enforces for the CRDs in crds/. Returns every violation found.
 */
export function validateDocument(doc: unknown): Violation[] {
  const out: Violation[] = [];
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    return [
      {
        path: '',
        message: `expected a Kubernetes object (a mapping), got ${describe(doc)}`,
        severity: 'error',
      },
    ];
  }
  const d = doc as Record<string, unknown>;
  if (d.apiVersion !== 'weir.dev/v1alpha1') {
    out.push({
      path: 'apiVersion',
      message: `expected "weir.dev/v1alpha1", got ${describe(d.apiVersion)}`,
      severity: 'error',
    });
    return out;
  }
  const c = typeof d.kind === 'string' ? compiledKind(d.kind) : undefined;
  if (!c) {
    out.push({
      path: 'kind',
      message: `expected one of ${kinds.map((k) => `"${k.kind}"`).join(', ')}, got ${describe(d.kind)}`,
      severity: 'error',
    });
    return out;
  }
  for (const key of Object.keys(d)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) {
      out.push({ path: key, message: `unknown field "${key}"`, severity: 'error' });
    }
  }
  checkMetadata(d.metadata, out);
  if (d.spec === undefined) {
    out.push({ path: 'spec', message: 'required field is missing', severity: 'error' });
  } else {
    // Defaults are applied before the rules run, as the API server does.
    const spec = structuredClone(d.spec);
    if (!c.validateSpec(spec)) {
      out.push(...(c.validateSpec.errors ?? []).map((e) => fromAjv(e, 'spec', c.spec)));
    } else {
      checkRules(c.spec, spec, 'spec', out);
    }
  }
  if (d.status !== undefined && c.def.status) {
    out.push({
      path: 'status',
      message: 'status is written by Weir; the API server ignores it here',
      severity: 'warning',
    });
  }
  return out;
}
