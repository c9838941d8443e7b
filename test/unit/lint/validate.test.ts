import { describe, expect, it } from 'vitest';
import { validateDocument } from '../../../src/lint/validate.js';

const base = () => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'Canary',
  metadata: { name: 'podinfo' },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    service: { port: 9898 },
    analysis: { interval: '30s', maxWeight: 50, stepWeight: 10 } as Record<string, unknown>,
  } as Record<string, any>,
});

const errors = (doc: unknown) => validateDocument(doc).filter((v) => v.severity === 'error');

describe('validateDocument', () => {
  it('accepts a minimal Canary', () => {
    expect(errors(base())).toEqual([]);
  });

  it('names the unknown field of a typo', () => {
    const doc = base();
    doc.spec.analysis.stepweight = 5;
    expect(errors(doc)).toEqual([
      {
        path: 'spec.analysis.stepweight',
        message: 'unknown field "stepweight"',
        severity: 'error',
      },
    ]);
  });

  it('says what type was expected and what was found', () => {
    const doc = base();
    doc.spec.service.port = 'http';
    expect(errors(doc)).toEqual([
      { path: 'spec.service.port', message: 'expected integer, got "http"', severity: 'error' },
    ]);
  });

  it('evaluates the CEL rules: strictly increasing stepWeights', () => {
    const doc = base();
    delete doc.spec.analysis.stepWeight;
    doc.spec.analysis.stepWeights = [10, 10, 20];
    expect(errors(doc)).toEqual([
      {
        path: 'spec.analysis.stepWeights',
        message: 'stepWeights must be strictly increasing',
        severity: 'error',
      },
    ]);
    doc.spec.analysis.stepWeights = [10, 20, 30];
    expect(errors(doc)).toEqual([]);
  });

  it('evaluates the CEL rules: interval of at least 10s, with durations parsed as Go does', () => {
    const doc = base();
    doc.spec.analysis.interval = '9s';
    expect(errors(doc)).toEqual([
      { path: 'spec.analysis.interval', message: 'must be at least 10s', severity: 'error' },
    ]);
    doc.spec.analysis.interval = '1m30s';
    expect(errors(doc)).toEqual([]);
  });

  it('evaluates the CEL rules: http(s) URLs only', () => {
    const doc = base();
    doc.spec.analysis.webhooks = [{ name: 'w', url: 'ftp://files.example/' }];
    expect(errors(doc)).toEqual([
      {
        path: 'spec.analysis.webhooks[0].url',
        message: 'must be an http or https URL',
        severity: 'error',
      },
    ]);
  });

  it('applies defaults before the rules, as the API server does', () => {
    const doc = base();
    doc.spec.analysis = { maxWeight: 50, stepWeight: 10 }; // interval defaults to 1m
    expect(errors(doc)).toEqual([]);
  });

  it('rejects a wrong group version and kind with what is expected', () => {
    expect(errors({ ...base(), apiVersion: 'weir.dev/v1beta1' })).toEqual([
      {
        path: 'apiVersion',
        message: 'expected "weir.dev/v1alpha1", got "weir.dev/v1beta1"',
        severity: 'error',
      },
    ]);
    expect(errors({ ...base(), kind: 'Canaries' })[0]).toMatchObject({ path: 'kind' });
  });

  it('checks metadata like the API server: name format and annotation size', () => {
    expect(errors({ ...base(), metadata: { name: 'PodInfo' } })[0]).toMatchObject({
      path: 'metadata.name',
    });
    const big = { a: 'x'.repeat(300 * 1024) };
    expect(errors({ ...base(), metadata: { name: 'p', annotations: big } })[0]).toMatchObject({
      path: 'metadata.annotations',
      message: expect.stringMatching(/at most 262144 bytes/),
    });
  });

  it('warns that status in a manifest is ignored', () => {
    expect(validateDocument({ ...base(), status: { phase: 'Succeeded' } })).toEqual([
      { path: 'status', message: expect.stringMatching(/written by Weir/), severity: 'warning' },
    ]);
  });

  describe('bounds on what an untrusted author writes (ADR 0012)', () => {
    const metric = (templateVariables: Record<string, string>) => ({
      name: 'latency',
      templateRef: { name: 'latency' },
      thresholdRange: { max: 500 },
      templateVariables,
    });
    const template = (spec: Record<string, unknown>) => ({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'MetricTemplate',
      metadata: { name: 'latency' },
      spec: { provider: { type: 'prometheus' }, query: 'up', ...spec },
    });

    it.each([
      [
        'analysis.interval',
        (d: any) => (d.spec.analysis.interval = '24h1s'),
        'spec.analysis.interval',
        'must be at most 24h',
      ],
      [
        'metrics[].interval',
        (d: any) =>
          (d.spec.analysis.metrics = [
            { name: 'request-duration', interval: '720h', thresholdRange: { max: 1 } },
          ]),
        'spec.analysis.metrics[0].interval',
        'must be at most 24h',
      ],
      [
        'webhooks[].timeout above',
        (d: any) => (d.spec.analysis.webhooks = [{ name: 'w', url: 'http://w/', timeout: '500h' }]),
        'spec.analysis.webhooks[0].timeout',
        'must be at most 5m',
      ],
      [
        'webhooks[].timeout zero',
        (d: any) => (d.spec.analysis.webhooks = [{ name: 'w', url: 'http://w/', timeout: '0s' }]),
        'spec.analysis.webhooks[0].timeout',
        'must be at least 100ms',
      ],
      [
        'service.timeout',
        (d: any) => (d.spec.service.timeout = '25h'),
        'spec.service.timeout',
        'must be at most 24h',
      ],
      [
        'progressDeadlineSeconds',
        (d: any) => (d.spec.progressDeadlineSeconds = 86401),
        'spec.progressDeadlineSeconds',
        'must be <= 86400, got 86401',
      ],
    ])('rejects an unbounded duration: %s', (_name, change, path, message) => {
      const doc = base();
      change(doc);
      expect(errors(doc)).toEqual([{ path, message, severity: 'error' }]);
    });

    it('accepts every duration at its bound', () => {
      const doc = base();
      doc.spec.analysis.interval = '24h';
      doc.spec.progressDeadlineSeconds = 86400;
      doc.spec.service.timeout = '0s';
      doc.spec.analysis.webhooks = [{ name: 'w', url: 'http://w/', timeout: '5m' }];
      doc.spec.analysis.metrics = [
        { name: 'request-duration', interval: '1s', thresholdRange: { max: 1 } },
      ];
      expect(errors(doc)).toEqual([]);
    });

    it('accepts realistic template variables: route names, durations, versions, label values, paths', () => {
      const doc = base();
      doc.spec.analysis.metrics = [
        metric({
          route: 'checkout.shop.svc.cluster.local:8080',
          window: '5m',
          version: 'v1.2-3',
          app: 'checkout_v2',
          quantile: '0.99',
          path: '/api/v1/orders',
          empty: '',
        }),
      ];
      expect(errors(doc)).toEqual([]);
    });

    it.each([
      ['a closing matcher and PromQL of its own', 'x"}[1m])) or on() vector(42) #'],
      ['a backslash escaping the closing quote', 'a\\'],
      ['a range bracket', '5m]'],
      ['a space', 'a b'],
      ['a regex alternation', 'GET|POST'],
    ])('rejects a template variable with %s, naming the variable', (_name, value) => {
      const doc = base();
      doc.spec.analysis.metrics = [metric({ route: value })];
      expect(errors(doc)).toEqual([
        {
          path: 'spec.analysis.metrics[0].templateVariables.route',
          message: expect.stringMatching(/^must match \^\[A-Za-z0-9_\.:\/-\]\*\$/),
          severity: 'error',
        },
      ]);
    });

    it('bounds the number and length of template variables', () => {
      const doc = base();
      doc.spec.analysis.metrics = [
        metric(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`v${i}`, 'x']))),
      ];
      expect(errors(doc)).toEqual([
        {
          path: 'spec.analysis.metrics[0].templateVariables',
          message: 'must have at most 32 entries',
          severity: 'error',
        },
      ]);
      doc.spec.analysis.metrics = [metric({ route: 'a'.repeat(254) })];
      expect(errors(doc)[0]).toMatchObject({
        path: 'spec.analysis.metrics[0].templateVariables.route',
        message: 'must be at most 253 characters, got 254',
      });
    });

    it('requires header match names to be RFC 7230 tokens', () => {
      const doc = base();
      delete doc.spec.analysis.stepWeight;
      doc.spec.analysis.iterations = 5;
      doc.spec.analysis.match = [
        { headers: { 'X-Canary': { exact: 'a' }, "x-b3_flags!#$%&'*+.^`|~": { exact: '1' } } },
      ];
      expect(errors(doc)).toEqual([]);
      for (const name of ['x canary', 'x-canary:', 'x\u00e9', '', 'x'.repeat(257)]) {
        doc.spec.analysis.match = [{ headers: { [name]: { exact: 'a' } } }];
        expect(errors(doc), JSON.stringify(name)).toEqual([
          {
            path: 'spec.analysis.match[0].headers',
            message: expect.stringMatching(
              /^the keys of headers must be HTTP header names: RFC 7230 tokens/,
            ),
            severity: 'error',
          },
        ]);
      }
    });

    it('bounds webhook metadata entries', () => {
      const doc = base();
      doc.spec.analysis.webhooks = [
        {
          name: 'w',
          url: 'http://w/',
          metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])),
        },
      ];
      expect(errors(doc)).toEqual([
        {
          path: 'spec.analysis.webhooks[0].metadata',
          message: 'must have at most 32 entries',
          severity: 'error',
        },
      ]);
    });

    it('keeps MetricTemplate headers to tokens the controller does not set itself', () => {
      expect(
        errors(
          template({ provider: { type: 'prometheus', headers: { 'X-Scope-OrgID': 'shop' } } }),
        ),
      ).toEqual([]);
      for (const name of [
        'Host',
        'content-length',
        'Content-Type',
        'Transfer-Encoding',
        'CONNECTION',
      ]) {
        expect(
          errors(template({ provider: { type: 'prometheus', headers: { [name]: 'x' } } })),
          name,
        ).toEqual([
          {
            path: 'spec.provider.headers',
            message:
              'headers must not set host, content-length, content-type, transfer-encoding, connection: the controller sets them',
            severity: 'error',
          },
        ]);
      }
      expect(errors(template({ provider: { type: 'prometheus', timeout: '6m' } }))).toEqual([
        { path: 'spec.provider.timeout', message: 'must be at most 5m', severity: 'error' },
      ]);
    });

    it('takes namespace names or * in allowedNamespaces, at most 64', () => {
      expect(errors(template({ allowedNamespaces: ['shop', '*'] }))).toEqual([]);
      expect(errors(template({ allowedNamespaces: ['Shop'] }))[0]).toMatchObject({
        path: 'spec.allowedNamespaces[0]',
      });
      expect(errors(template({ allowedNamespaces: ['shop-*'] }))[0]).toMatchObject({
        path: 'spec.allowedNamespaces[0]',
      });
      const many = Array.from({ length: 65 }, (_, i) => `team-${i}`);
      expect(errors(template({ allowedNamespaces: many }))).toEqual([
        {
          path: 'spec.allowedNamespaces',
          message: 'must have at most 64 items',
          severity: 'error',
        },
      ]);
      const provider = {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'AlertProvider',
        metadata: { name: 'slack' },
        spec: { type: 'slack', secretRef: { name: 's' }, allowedNamespaces: ['*'] },
      };
      expect(errors(provider)).toEqual([]);
    });
  });
});
