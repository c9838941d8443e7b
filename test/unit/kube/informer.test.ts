import { describe, expect, it } from 'vitest';
import { slim } from '../../../src/kube/informer.js';

describe('slim', () => {
  it('drops managed fields and the last-applied annotation, and keeps everything else', () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'podinfo',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}',
          'weir.dev/revision': 'abc',
        },
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
      spec: { replicas: 2 },
    };
    expect(slim(obj)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'podinfo', annotations: { 'weir.dev/revision': 'abc' } },
      spec: { replicas: 2 },
    });
  });
});
