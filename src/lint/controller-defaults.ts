import { judgeOptions, judgeWindow, valuesPerSeries } from '../analysis/judge.js';
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
    return ((doc as Canary).spec?.analysis?.metrics ?? []).flatMap((m, i) => [
      ...(m.query
        ? [
            {
              path: `spec.analysis.metrics[${i}].query`,
              severity: 'warning' as const,
              message:
                'inline queries run only on a controller started with --allow-inline-queries (off by default): move the query into a MetricTemplate',
            },
          ]
        : []),
      ...judgeWindowWarnings(m, i),
    ]);
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

/**
 * A judge whose window cannot give one series enough values: every step is inconclusive
 * unless the query returns several series (pods pooled), which a linter cannot know.
 */
function judgeWindowWarnings(
  m: NonNullable<Canary['spec']['analysis']['metrics']>[number],
  i: number,
): Violation[] {
  if (!m.judge) return [];
  const window = judgeWindow(m.interval, m.judge.step);
  const most = valuesPerSeries(window);
  const { minSamples } = judgeOptions(m.judge);
  if (most >= minSamples) return [];
  return [
    {
      path: `spec.analysis.metrics[${i}].judge`,
      severity: 'warning',
      message: `a window of ${window.seconds}s at ${window.stepSeconds}s steps gives at most ${most} values a series, fewer than minSamples ${minSamples}: unless the query returns several series, every step is inconclusive; lengthen interval or shorten judge.step`,
    },
  ];
}
