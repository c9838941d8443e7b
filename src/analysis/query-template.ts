import { templateVariableMaxLength, templateVariablePattern } from '../api/limits.js';

/** The values a query template may use. */
export interface QueryModel {
  /** Canary name. */
  name: string;
  namespace: string;
  /** The workload measured: the target Deployment, or `<target>-primary` when measuring the primary. */
  target: string;
  /** The apex Service name. */
  service: string;
  /** The Service of the workload measured: `<apex>-canary` or `<apex>-primary`. */
  backend: string;
  /** The Ingress named by `ingressRef` (the target name without one). */
  ingress: string;
  /** The ApisixRoute named by `routeRef` (the target name without one), as in Flagger. */
  route: string;
  /** The metric's window, e.g. `1m`. */
  interval: string;
  /** `canary` or `primary`. */
  role: 'canary' | 'primary';
  variables: Record<string, string>;
  /**
   * A StatefulSet target's pods (ADR 0019), each a regular expression of exact pod
   * names: the canary's, the stable set's, and the measured role's. Absent for
   * other targets.
   */
  pods?: { canaryPods: string; stablePods: string; pods: string };
  /** A Knative Service target's Revision measured (ADR 0020): the newest, or the primary. */
  revision?: string;
}

/** The placeholders that name a StatefulSet's pods. */
const podPlaceholders = ['canaryPods', 'stablePods', 'pods'] as const;

const simple = [
  'name',
  'namespace',
  'target',
  'service',
  'backend',
  'ingress',
  'route',
  'interval',
  'role',
] as const;

/** A template that cannot be rendered: the message names the placeholder. */
export class QueryTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryTemplateError';
  }
}

const safeValue = new RegExp(templateVariablePattern);
/** A value that is one PromQL token: a name, a duration, or a number (maybe negative). */
const singleToken = /^(-?[0-9][0-9.]*|[A-Za-z0-9_.:]*)$/;

/**
 * The parts of a template where a value cannot change the expression: string
 * literals ("…", '…', `…`) and comments. Placeholders are skipped as opaque.
 */
function literalRanges(template: string): [number, number][] {
  const ranges: [number, number][] = [];
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === '{' && template[i + 1] === '{') {
      const end = template.indexOf('}}', i + 2);
      i = end < 0 ? template.length : end + 2;
    } else if (c === '#') {
      const end = template.indexOf('\n', i);
      const stop = end < 0 ? template.length : end;
      ranges.push([i, stop]);
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < template.length && template[j] !== c)
        j += c !== '`' && template[j] === '\\' ? 2 : 1;
      ranges.push([i, j]);
      i = j + 1;
    } else {
      i++;
    }
  }
  return ranges;
}

/**
 * Refuses a variable value that could change the query around it. Values come
 * from the Canary, whose author is not trusted; the CRD has the same pattern,
 * but an object admitted under an older CRD never went through it. Outside a
 * string literal, `-` and `/` would also be operators (`1-up` reads another
 * series), so there a value must be a single token.
 */
function checkVariable(key: string, value: string, quoted: boolean): void {
  if (value.length > templateVariableMaxLength || !safeValue.test(value)) {
    throw new QueryTemplateError(
      `{{ ${key} }}: the value may contain only letters, digits and _ . : / -, at most ${templateVariableMaxLength} characters, so that it cannot change the query around it`,
    );
  }
  if (!quoted && !singleToken.test(value)) {
    throw new QueryTemplateError(
      `{{ ${key} }} stands outside a quoted string in the template, where "${value}" would be an expression: there a value must be a name, a number or a duration (quote the placeholder in the template for anything else)`,
    );
  }
}

/**
 * Renders `{{ name }}`-style placeholders (Flagger's syntax). A placeholder
 * without a value is an error, never an empty string, so a typo cannot turn
 * into a query that quietly matches everything or nothing. A variable whose
 * value could change the query around it is an error too.
 */
export function renderQuery(template: string, model: QueryModel): string {
  const literals = literalRanges(template);
  const quoted = (offset: number) => literals.some(([from, to]) => offset > from && offset < to);
  return template.replace(/\{\{-?\s*([^{}]*?)\s*-?\}\}/g, (_all, raw: string, offset: number) => {
    const key = raw.replace(/^\./, '');
    if ((simple as readonly string[]).includes(key)) return model[key as (typeof simple)[number]];
    if ((podPlaceholders as readonly string[]).includes(key)) {
      if (!model.pods)
        throw new QueryTemplateError(
          `{{ ${key} }} names pods of a StatefulSet target, which is released a share of its pods at a time; this Canary's target is not a StatefulSet: select its pods by {{ target }}`,
        );
      return model.pods[key as (typeof podPlaceholders)[number]];
    }
    if (key === 'revision') {
      if (model.revision === undefined)
        throw new QueryTemplateError(
          `{{ revision }} names the Knative Revision measured; this Canary's target is not a Knative Service`,
        );
      return model.revision;
    }
    const variable = /^variables\.([A-Za-z0-9_.-]+)$/.exec(key);
    if (variable) {
      const value = model.variables[variable[1]!];
      if (value === undefined) {
        const known = Object.keys(model.variables);
        throw new QueryTemplateError(
          `{{ ${key} }} has no value: templateVariables ${known.length ? `has only ${known.sort().join(', ')}` : 'is empty'}`,
        );
      }
      checkVariable(key, value, quoted(offset));
      return value;
    }
    throw new QueryTemplateError(
      `unknown placeholder {{ ${raw} }}: use ${[...simple, ...podPlaceholders, 'revision'].map((s) => `{{ ${s} }}`).join(', ')} or {{ variables.<key> }}`,
    );
  });
}
