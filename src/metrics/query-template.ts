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
  /** The metric's window, e.g. `1m`. */
  interval: string;
  /** `canary` or `primary`. */
  role: 'canary' | 'primary';
  variables: Record<string, string>;
}

const simple = [
  'name',
  'namespace',
  'target',
  'service',
  'backend',
  'ingress',
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

/**
 * Renders `{{ name }}`-style placeholders (Flagger's syntax). A placeholder
 * without a value is an error, never an empty string, so a typo cannot turn
 * into a query that quietly matches everything or nothing.
 */
export function renderQuery(template: string, model: QueryModel): string {
  return template.replace(/\{\{-?\s*([^{}]*?)\s*-?\}\}/g, (_all, raw: string) => {
    const key = raw.replace(/^\./, '');
    if ((simple as readonly string[]).includes(key)) return model[key as (typeof simple)[number]];
    const variable = /^variables\.([A-Za-z0-9_.-]+)$/.exec(key);
    if (variable) {
      const value = model.variables[variable[1]!];
      if (value === undefined) {
        const known = Object.keys(model.variables);
        throw new QueryTemplateError(
          `{{ ${key} }} has no value: templateVariables ${known.length ? `has only ${known.sort().join(', ')}` : 'is empty'}`,
        );
      }
      return value;
    }
    throw new QueryTemplateError(
      `unknown placeholder {{ ${raw} }}: use ${simple.map((s) => `{{ ${s} }}`).join(', ')} or {{ variables.<key> }}`,
    );
  });
}
