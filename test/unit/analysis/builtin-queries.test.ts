import { describe, expect, it } from 'vitest';
import {
  builtinMetrics,
  builtinQuery,
  telemetryOf,
} from '../../../src/analysis/builtin-queries.js';
import { renderQuery, type QueryModel } from '../../../src/analysis/query-template.js';

const model = (role: QueryModel['role']): QueryModel => ({
  name: 'podinfo',
  namespace: 'shop',
  target: role === 'canary' ? 'podinfo' : 'podinfo-primary',
  service: 'podinfo',
  backend: role === 'canary' ? 'podinfo-canary' : 'podinfo-primary',
  ingress: 'podinfo',
  interval: '1m',
  role,
  variables: {},
});

describe('built-in queries', () => {
  const routers = Object.keys(telemetryOf);
  it.each(routers.flatMap((r) => builtinMetrics.map((m) => [r, m] as const)))(
    '%s %s renders for both roles and selects the role’s workload',
    (router, metric) => {
      const template = builtinQuery(router, metric);
      const primaryTemplate = builtinQuery(router, metric, 'primary');
      if (typeof template !== 'string') throw new Error(template.error);
      if (typeof primaryTemplate !== 'string') throw new Error(primaryTemplate.error);
      const canary = renderQuery(template, model('canary'));
      const primary = renderQuery(primaryTemplate, model('primary'));
      expect(canary).not.toMatch(/\{\{|\}\}/);
      expect(canary).toContain('[1m]');
      expect(canary).toContain('shop');
      // ingress-nginx labels both sides with the user's Ingress and apex Service (see below).
      if (router !== 'nginx') expect(primary).toMatch(/podinfo-primary/);
      expect(canary).not.toBe(primary);
      if (metric === 'request-duration') expect(canary).toMatch(/^histogram_quantile\(0\.99,/);
      else expect(canary).toMatch(/\* 100$/);
    },
  );

  it('a router variant uses its base name, an unknown router is an error', () => {
    expect(builtinQuery('gatewayapi:v1', 'request-duration')).toBe(
      builtinQuery('gatewayapi', 'request-duration'),
    );
    expect(builtinQuery('skipper', 'request-duration')).toEqual({
      error:
        'built-in metric request-duration has no query for router skipper: use a MetricTemplate',
    });
  });

  it('nginx tells the canary from the primary by the canary upstream label of the user’s Ingress', () => {
    const render = (role: QueryModel['role']) =>
      renderQuery(builtinQuery('nginx', 'request-success-rate', role) as string, model(role));
    const selector = 'namespace="shop", ingress="podinfo", service="podinfo"';
    expect(render('canary')).toContain(`{${selector}, canary!="", status!~"5.."}`);
    expect(render('primary')).toContain(`{${selector}, canary="", status!~"5.."}`);
    expect(builtinQuery('nginx', 'request-duration', 'primary')).toContain('canary=""');
  });

  it('the pod pattern of the app telemetry tells canary pods from primary pods', () => {
    const pattern = /^podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)$/;
    expect(pattern.test('podinfo-7d9f8c6b5-x2k4p')).toBe(true);
    expect(pattern.test('podinfo-primary-5c8d7f9b4-q7w2e')).toBe(false);
    expect(builtinQuery('kubernetes', 'request-success-rate')).toContain(
      'pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"',
    );
  });
});
