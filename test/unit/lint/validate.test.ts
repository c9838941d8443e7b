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
});
