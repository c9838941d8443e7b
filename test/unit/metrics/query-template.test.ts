import { describe, expect, it } from 'vitest';
import {
  QueryTemplateError,
  renderQuery,
  type QueryModel,
} from '../../../src/metrics/query-template.js';

const model: QueryModel = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo-svc',
  backend: 'podinfo-svc-canary',
  ingress: 'podinfo',
  interval: '1m',
  role: 'canary',
  variables: { route: '/api', 'le.bucket': '0.5' },
};

describe('renderQuery', () => {
  it('fills every placeholder, with or without spaces and a leading dot', () => {
    expect(
      renderQuery(
        'x{ns="{{ namespace }}",t="{{target}}",s="{{ .service }}",b="{{ backend }}",n="{{ name }}",i="{{ ingress }}",r="{{ role }}"}[{{ interval }}] {{ variables.route }} {{ variables.le.bucket }}',
        model,
      ),
    ).toBe(
      'x{ns="test",t="podinfo",s="podinfo-svc",b="podinfo-svc-canary",n="podinfo",i="podinfo",r="canary"}[1m] /api 0.5',
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
});
