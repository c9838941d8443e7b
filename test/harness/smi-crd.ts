import * as yaml from 'js-yaml';

type Schema = Record<string, unknown>;

/**
 * Converts the SMI project's TrafficSplit CRD (published as legacy
 * apiextensions/v1beta1, which no current API server accepts) into
 * apiextensions/v1, serving the versions Linkerd's SMI extension serves:
 * `v1alpha1` (weights as quantities such as `500m`) and `v1alpha2` (integer
 * weights, the storage version). See docs/adr/0002-local-test-cluster.md.
 */
export function trafficSplitCrdV1(legacyYaml: string): Record<string, unknown> {
  const legacy = yaml.load(legacyYaml) as {
    metadata: { name: string };
    spec: {
      group: string;
      scope: string;
      names: Record<string, unknown>;
      validation: { openAPIV3Schema: { properties: { spec: Schema } } };
      additionalPrinterColumns?: {
        name: string;
        type: string;
        description?: string;
        JSONPath: string;
      }[];
    };
  };
  const specSchema = legacy.spec.validation.openAPIV3Schema.properties.spec;
  const columns = (legacy.spec.additionalPrinterColumns ?? []).map(({ JSONPath, ...rest }) => ({
    ...rest,
    jsonPath: JSONPath,
  }));
  const version = (name: string, storage: boolean, weight: Schema) => ({
    name,
    served: true,
    storage,
    additionalPrinterColumns: columns,
    schema: {
      openAPIV3Schema: {
        type: 'object',
        properties: { spec: withWeight(specSchema, weight) },
      },
    },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: legacy.metadata.name },
    spec: {
      group: legacy.spec.group,
      scope: legacy.spec.scope,
      names: legacy.spec.names,
      versions: [
        version('v1alpha1', false, {
          'x-kubernetes-int-or-string': true,
          description: 'Traffic weight (a quantity such as 500m).',
        }),
        version('v1alpha2', true, {
          type: 'integer',
          minimum: 0,
          description: 'Traffic weight of this backend.',
        }),
      ],
    },
  };
}

function withWeight(spec: Schema, weight: Schema): Schema {
  const copy = structuredClone(spec) as {
    properties: { backends: { items: { properties: Record<string, Schema> } } };
  };
  copy.properties.backends.items.properties.weight = weight;
  return copy as unknown as Schema;
}
