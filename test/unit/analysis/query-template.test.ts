import { describe, expect, it } from 'vitest';
import {
  QueryTemplateError,
  renderQuery,
  type QueryModel,
} from '../../../src/analysis/query-template.js';

const model: QueryModel = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo-svc',
  backend: 'podinfo-svc-canary',
  ingress: 'podinfo',
  route: 'podinfo-route',
  interval: '1m',
  role: 'canary',
  variables: { route: '/api', 'le.bucket': '0.5' },
};

describe('renderQuery', () => {
  it('fills every placeholder, with or without spaces and a leading dot', () => {
    expect(
      renderQuery(
        'x{ns="{{ namespace }}",t="{{target}}",s="{{ .service }}",b="{{ backend }}",n="{{ name }}",i="{{ ingress }}",r="{{ role }}",p="{{ variables.route }}"}[{{ interval }}] {{ variables.le.bucket }}',
        model,
      ),
    ).toBe(
      'x{ns="test",t="podinfo",s="podinfo-svc",b="podinfo-svc-canary",n="podinfo",i="podinfo",r="canary",p="/api"}[1m] 0.5',
    );
  });

  it('leaves PromQL braces alone', () => {
    expect(renderQuery('sum(rate(x{a="b"}[5m])) by (le)', model)).toBe(
      'sum(rate(x{a="b"}[5m])) by (le)',
    );
  });

  it('rejects a variable without a value instead of rendering an empty string', () => {
    expect(() => renderQuery('{{ variables.missing }}', model)).toThrow(QueryTemplateError);
    expect(() => renderQuery('{{ variables.missing }}', model)).toThrow(
      '{{ variables.missing }} has no value: templateVariables has only le.bucket, route',
    );
    expect(() => renderQuery('{{ variables.x }}', { ...model, variables: {} })).toThrow(
      'templateVariables is empty',
    );
  });

  it('rejects an unknown placeholder and lists the known ones', () => {
    expect(() => renderQuery('{{ nmespace }}', model)).toThrow(
      /unknown placeholder \{\{ nmespace \}\}: use \{\{ name \}\}, \{\{ namespace \}\}/,
    );
  });

  describe('the pods of a StatefulSet target (ADR 0019)', () => {
    const pods = { canaryPods: 'web-(2)', stablePods: 'web-(0|1)', pods: 'web-(0|1)' };

    it('renders canaryPods, stablePods and the measured role’s pods from the model, with or without a leading dot', () => {
      expect(
        renderQuery(
          'x{c=~"{{ canaryPods }}",s=~"{{stablePods}}",p=~"{{ .pods }}",t="{{ target }}"}',
          { ...model, role: 'primary', target: 'web', pods },
        ),
      ).toBe('x{c=~"web-(2)",s=~"web-(0|1)",p=~"web-(0|1)",t="web"}');
    });

    it.each(['canaryPods', 'stablePods', 'pods'])(
      'refuses {{ %s }} for a target that is not a StatefulSet, naming it',
      (placeholder) => {
        const render = () => renderQuery(`x{pod=~"{{ ${placeholder} }}"}`, model);
        expect(render).toThrow(QueryTemplateError);
        expect(render).toThrow(
          `{{ ${placeholder} }} names pods of a StatefulSet target, which is released a share of its pods at a time; this Canary's target is not a StatefulSet: select its pods by {{ target }}`,
        );
      },
    );

    it('lists them among the known placeholders when one is unknown', () => {
      expect(() => renderQuery('{{ canaryPod }}', model)).toThrow(
        'unknown placeholder {{ canaryPod }}: use {{ name }}, {{ namespace }}, {{ target }}, {{ service }}, {{ backend }}, {{ ingress }}, {{ route }}, {{ interval }}, {{ role }}, {{ canaryPods }}, {{ stablePods }}, {{ pods }}, {{ revision }} or {{ variables.<key> }}',
      );
    });
  });

  describe('the Revision of a Knative Service target (ADR 0020)', () => {
    it('renders {{ revision }} from the model', () => {
      expect(
        renderQuery(
          'envoy_cluster_upstream_rq{envoy_cluster_name="{{ namespace }}/{{ revision }}"}',
          {
            ...model,
            revision: 'hello-00002',
          },
        ),
      ).toBe('envoy_cluster_upstream_rq{envoy_cluster_name="test/hello-00002"}');
    });

    it('refuses it for a target that is not a Knative Service, naming it', () => {
      expect(() => renderQuery('x{r="{{ revision }}"}', model)).toThrow(
        "{{ revision }} names the Knative Revision measured; this Canary's target is not a Knative Service",
      );
    });
  });

  describe('values from an untrusted Canary (ADR 0012)', () => {
    const render = (template: string, value: string) =>
      renderQuery(template, { ...model, variables: { v: value } });
    const quotedTemplate = 'sum(rate(x{route="{{ variables.v }}"}[1m]))';

    it.each([
      ['a closed matcher and PromQL of its own', 'x"} or vector(1) #'],
      ['a backslash that escapes the closing quote', 'a\\'],
      ['a closing range bracket', '5m]'],
      ['a newline', 'a\nb'],
      ['a control character', 'a\u001b[2J'],
      ['a regex alternation', 'GET|POST'],
      ['254 characters', 'a'.repeat(254)],
    ])('refuses %s, naming the variable, inside quotes and outside', (_name, value) => {
      for (const template of [quotedTemplate, 'histogram_quantile({{ variables.v }}, x)']) {
        expect(() => render(template, value)).toThrow(QueryTemplateError);
        expect(() => render(template, value)).toThrow(
          /^\{\{ variables\.v \}\}: the value may contain only letters, digits and _ \. : \/ -/,
        );
      }
    });

    it.each([
      'v1.2-3',
      'checkout.shop.svc.cluster.local:8080',
      '/api/v1/orders',
      '5m',
      'a'.repeat(253),
      '',
    ])('renders %s inside a quoted matcher', (value) => {
      expect(render(quotedTemplate, value)).toBe(`sum(rate(x{route="${value}"}[1m]))`);
    });

    it('takes a single token outside quotes: a name, a number or a duration', () => {
      expect(render('histogram_quantile({{ variables.v }}, x)', '0.99')).toBe(
        'histogram_quantile(0.99, x)',
      );
      expect(render('rate(x[{{ variables.v }}])', '1m30s')).toBe('rate(x[1m30s])');
      expect(render('clamp_min(x, {{ variables.v }})', '-1.5')).toBe('clamp_min(x, -1.5)');
      expect(render('sum by ({{ variables.v }}) (x)', 'route')).toBe('sum by (route) (x)');
    });

    it('refuses an expression outside quotes: 1-up would read another series', () => {
      for (const value of ['1-up', 'x/y', 'a-b', '5m-1s']) {
        expect(() => render('x > {{ variables.v }}', value)).toThrow(
          `{{ variables.v }} stands outside a quoted string in the template, where "${value}" would be an expression`,
        );
      }
    });

    it('knows single-quoted, backquoted and escaped strings and comments', () => {
      expect(render("x{a='{{ variables.v }}'}", 'a-b')).toBe("x{a='a-b'}");
      expect(render('x{a=~`{{ variables.v }}`}', 'a-b')).toBe('x{a=~`a-b`}');
      expect(render('x{a="q\\"{{ variables.v }}"}', 'a-b')).toBe('x{a="q\\"a-b"}');
      expect(render('x # {{ variables.v }}\n', 'a-b')).toBe('x # a-b\n');
      // After a closed string, the position is bare again.
      expect(() => render('x{a="b"} > {{ variables.v }}', 'a-b')).toThrow(
        /outside a quoted string/,
      );
      // A quote inside a placeholder does not open a string.
      expect(() => render('{{ "x" }} > {{ variables.v }}', 'a-b')).toThrow(QueryTemplateError);
    });
  });
});
