import { describe, expect, it } from 'vitest';
import { trafficSplitCrdV1 } from '../../harness/smi-crd.js';

const legacy = `
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata:
  name: trafficsplits.split.smi-spec.io
spec:
  group: split.smi-spec.io
  scope: Namespaced
  names: { kind: TrafficSplit, plural: trafficsplits, singular: trafficsplit, shortNames: [ts] }
  additionalPrinterColumns:
  - { name: Service, type: string, JSONPath: .spec.service }
  validation:
    openAPIV3Schema:
      properties:
        spec:
          type: object
          required: [service, backends]
          properties:
            service: { type: string }
            backends:
              type: array
              items:
                type: object
                required: [service, weight]
                properties:
                  service: { type: string }
                  weight: { type: number }
`;

describe('trafficSplitCrdV1', () => {
  const crd = trafficSplitCrdV1(legacy) as any;

  it('is an apiextensions/v1 CRD serving v1alpha1 and v1alpha2, storing v1alpha2', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.spec.versions.map((v: any) => [v.name, v.served, v.storage])).toEqual([
      ['v1alpha1', true, false],
      ['v1alpha2', true, true],
    ]);
  });

  it('types weights as Linkerd does: quantities in v1alpha1, integers in v1alpha2', () => {
    const weight = (i: number) =>
      crd.spec.versions[i].schema.openAPIV3Schema.properties.spec.properties.backends.items
        .properties.weight;
    expect(weight(0)['x-kubernetes-int-or-string']).toBe(true);
    expect(weight(1).type).toBe('integer');
  });

  it('keeps the required fields and converts printer columns to jsonPath', () => {
    const v = crd.spec.versions[1];
    expect(v.schema.openAPIV3Schema.properties.spec.required).toEqual(['service', 'backends']);
    expect(v.additionalPrinterColumns).toEqual([
      { name: 'Service', type: 'string', jsonPath: '.spec.service' },
    ]);
  });
});
