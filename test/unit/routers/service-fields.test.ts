import { describe, expect, it } from 'vitest';
import { CanaryServiceSchema } from '../../../src/api/canary-schema.js';
import {
  defaultAdvice,
  routingFields,
  serviceFieldsUnsupported,
  serviceMetadataFields,
  unhonouredServiceFields,
  type RoutingField,
} from '../../../src/routers/service-fields.js';
import { canaryWith } from './fixtures.js';

describe('routingFields', () => {
  it('are every field of spec.service but the Services’ own, so each router decides on each', () => {
    const all = Object.keys(CanaryServiceSchema.properties);
    const metadata: readonly string[] = serviceMetadataFields;
    expect(routingFields).toEqual(all.filter((f) => !metadata.includes(f)));
  });
});

describe('unhonouredServiceFields', () => {
  it.each([
    { what: 'nothing set', service: {}, honoured: [], fields: [] },
    {
      what: 'only metadata fields',
      service: { name: 'web', portName: 'http', apex: { labels: { a: 'b' } } },
      honoured: [],
      fields: [],
    },
    {
      what: 'a set field not honoured',
      service: { timeout: '5s' },
      honoured: [],
      fields: ['timeout'],
    },
    {
      what: 'a set field honoured',
      service: { timeout: '5s' },
      honoured: ['timeout'],
      fields: [],
    },
    {
      what: 'empty lists, empty objects and false say nothing',
      service: { hosts: [], match: [], headers: {}, rewrite: {}, delegation: false },
      honoured: [],
      fields: [],
    },
    {
      what: 'several, in the schema’s order',
      service: { corsPolicy: { allowMethods: ['GET'] }, hosts: ['a'], retries: { attempts: 1 } },
      honoured: ['retries'],
      fields: ['hosts', 'corsPolicy'],
    },
    {
      what: 'delegation true',
      service: { delegation: true },
      honoured: [],
      fields: ['delegation'],
    },
  ] as { what: string; service: object; honoured: RoutingField[]; fields: RoutingField[] }[])(
    '$what',
    ({ service, honoured, fields }) => {
      expect(unhonouredServiceFields(canaryWith({ service }), honoured)).toEqual(fields);
    },
  );
});

describe('serviceFieldsUnsupported', () => {
  it('is undefined when every set field is honoured', () => {
    const canary = canaryWith({ service: { hosts: ['a'] } });
    expect(serviceFieldsUnsupported('demo', canary, { honoured: ['hosts'] })).toBeUndefined();
  });

  it('names each field, the provider and what to do instead, the provider’s advice first', () => {
    const canary = canaryWith({ service: { timeout: '5s', meshName: 'm' } });
    expect(
      serviceFieldsUnsupported('demo', canary, {
        honoured: [],
        instead: { timeout: 'set it on the proxy' },
      }),
    ).toBe(
      `spec.service.timeout is not supported by the demo provider: set it on the proxy; spec.service.meshName is not supported by the demo provider: ${defaultAdvice.meshName}`,
    );
  });
});
