import { describe, expect, it } from 'vitest';
import {
  builtinMetrics,
  builtinModel,
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
  route: 'podinfo',
  interval: '1m',
  role,
  variables: {},
  // A StatefulSet's pods and a Knative Service's Revisions (the statefulset and knative rows).
  pods: {
    canaryPods: 'podinfo-(2)',
    stablePods: 'podinfo-(0|1)',
    pods: role === 'canary' ? 'podinfo-(2)' : 'podinfo-(0|1)',
  },
  revision: role === 'canary' ? 'podinfo-00002' : 'podinfo-00001',
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
      // APISIX's labels cannot tell the backends of the canary route apart (see below).
      // A StatefulSet's roles are its pods by name, a Knative Service's its Revisions.
      if (router === 'statefulset') expect(primary).toContain('pod=~"podinfo-(0|1)"');
      else if (router === 'knative') expect(primary).toContain('"shop/podinfo-00001"');
      else if (router !== 'nginx' && router !== 'apisix')
        expect(primary).toMatch(/podinfo-primary/);
      if (router !== 'apisix') expect(canary).not.toBe(primary);
      if (metric === 'request-duration') expect(canary).toMatch(/^histogram_quantile\(0\.99,/);
      else expect(canary).toMatch(/\* 100$/);
    },
  );

  it('a router variant uses its base name, an unknown router is an error', () => {
    expect(builtinQuery('gatewayapi:v1', 'request-duration')).toBe(
      builtinQuery('gatewayapi', 'request-duration'),
    );
    expect(builtinQuery('appmesh', 'request-duration')).toEqual({
      error:
        'built-in metric request-duration has no query for router appmesh: use a MetricTemplate',
    });
  });

  it('apisix measures the canary route Weir writes, named as APISIX names it (Flagger’s queries)', () => {
    const names = { ...model('canary'), route: 'shop-route', service: 'web' };
    expect(renderQuery(builtinQuery('apisix', 'request-success-rate') as string, names)).toBe(
      'sum(rate(apisix_http_status{route=~"shop_shop-route-web-canary_.+", code!~"5.."}[1m])) / sum(rate(apisix_http_status{route=~"shop_shop-route-web-canary_.+"}[1m])) * 100',
    );
    expect(renderQuery(builtinQuery('apisix', 'request-duration') as string, names)).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(apisix_http_latency_bucket{type="request", route=~"shop_shop-route-web-canary_.+"}[1m])))',
    );
  });

  it('kuma selects the dataplanes of the role’s Service by their Kuma service name', () => {
    const render = (role: QueryModel['role']) =>
      renderQuery(builtinQuery('kuma', 'request-success-rate', role) as string, model(role));
    expect(render('canary')).toBe(
      'sum(rate(envoy_cluster_upstream_rq{service=~"podinfo-canary_shop_svc_[0-9]+", envoy_response_code!~"5.."}[1m])) / sum(rate(envoy_cluster_upstream_rq{service=~"podinfo-canary_shop_svc_[0-9]+"}[1m])) * 100',
    );
    expect(render('primary')).toContain('service=~"podinfo-primary_shop_svc_[0-9]+"');
  });

  it('nginx tells the canary from the primary by the canary upstream label of the user’s Ingress', () => {
    const render = (role: QueryModel['role']) =>
      renderQuery(builtinQuery('nginx', 'request-success-rate', role) as string, model(role));
    const selector = 'namespace="shop", ingress="podinfo", service="podinfo"';
    expect(render('canary')).toContain(`{${selector}, canary!="", status!~"5.."}`);
    expect(render('primary')).toContain(`{${selector}, canary="", status!~"5.."}`);
    expect(builtinQuery('nginx', 'request-duration', 'primary')).toContain('canary=""');
  });

  it('skipper selects the role’s backend on the canary Ingress by route name, names written as Skipper writes them', () => {
    const names = (role: QueryModel['role']): QueryModel => ({
      ...model(role),
      namespace: 'shop-eu',
      ingress: 'web.public',
    });
    const render = (metric: (typeof builtinMetrics)[number], role: QueryModel['role']) =>
      renderQuery(
        builtinQuery('skipper', metric, role) as string,
        builtinModel('skipper', names(role)),
      );
    const route = (backend: string) =>
      `route=~"kube(ew)?_shop_eu__web_public_canary__.*__${backend}(_[0-9]+)?"`;
    expect(render('request-success-rate', 'canary')).toBe(
      `sum(rate(skipper_response_duration_seconds_count{${route('podinfo_canary')}, code!~"5.."}[1m])) / sum(rate(skipper_response_duration_seconds_count{${route('podinfo_canary')}}[1m])) * 100`,
    );
    expect(render('request-duration', 'primary')).toBe(
      `histogram_quantile(0.99, sum by (le) (rate(skipper_serve_route_duration_seconds_bucket{${route('podinfo_primary')}}[1m]))) * 1000`,
    );
    // Every other router's names are left as they are.
    expect(builtinModel('nginx', names('canary'))).toEqual(names('canary'));
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
