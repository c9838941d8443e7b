import type { Canary, MetricTemplate } from '../api/types.js';
import type { Violation } from './validate.js';

/**
 * What a well-formed document asks of the controller that its defaults refuse
 * (docs/adr/0012-untrusted-canary-input.md). The operator may have turned them
 * on, which a linter cannot know, so these are warnings.
 */
export function controllerDefaultWarnings(value: unknown): Violation[] {
  const doc = value as Canary | MetricTemplate;
  if (doc.kind === 'Canary') {
    return ((doc as Canary).spec?.analysis?.metrics ?? []).flatMap((m, i) =>
      m.query
        ? [
            {
              path: `spec.analysis.metrics[${i}].query`,
              severity: 'warning' as const,
              message:
                'inline queries run only on a controller started with --allow-inline-queries (off by default): move the query into a MetricTemplate',
            },
          ]
        : [],
    );
  }
  if (doc.kind === 'MetricTemplate') {
    const p = (doc as MetricTemplate).spec?.provider;
    if (p && !p.address && Object.keys(p.headers ?? {}).length > 0)
      return [
        {
          path: 'spec.provider.headers',
          severity: 'warning',
          message:
            'without provider.address these headers would go to the controller’s shared --metrics-server, which it refuses unless started with --allow-metrics-server-headers: set an address',
        },
      ];
  }
  return [];
}
