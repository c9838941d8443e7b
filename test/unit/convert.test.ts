import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { convertFlagger } from '../../src/convert/flagger.js';
import { validateDocument } from '../../src/lint/validate.js';

const flagger = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: test }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis:
    interval: 5s
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    webhooks:
      - name: load
        type: ""
        url: http://loadtester.test/
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: { name: slack, namespace: test }
spec:
  type: slack
  address: https://hooks.slack.com/services/T/B/X
  secretRef: { name: slack-url }
---
apiVersion: v1
kind: Service
metadata: { name: untouched }
`;

describe('convertFlagger', () => {
  const result = convertFlagger(flagger);
  const docs = yaml.loadAll(result.yaml) as Record<string, any>[];

  it('rewrites the Flagger kinds to weir.dev/v1alpha1 and leaves other documents alone', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'weir.dev/v1alpha1 Canary',
      'weir.dev/v1alpha1 AlertProvider',
      'v1 Service',
    ]);
    expect(result.converted).toBe(2);
  });

  it('produces documents that pass Weir validation', () => {
    expect(validateDocument(docs[0]).filter((v) => v.severity === 'error')).toEqual([]);
    expect(validateDocument(docs[1]).filter((v) => v.severity === 'error')).toEqual([]);
  });

  it('says what it changed or could not carry over', () => {
    expect(result.notes.map((n) => `${n.object} ${n.path}`)).toEqual([
      'Canary/podinfo spec.analysis.interval',
      'Canary/podinfo spec.analysis.webhooks[0].type',
      'AlertProvider/slack spec.address',
    ]);
    expect(result.notes[2]!.message).toMatch(/Secret/);
    expect(docs[0]!.spec.analysis.interval).toBe('10s');
  });
});
