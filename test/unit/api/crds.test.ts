import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCrdFiles } from '../../../src/api/crd-files.js';
import { kinds, plainSchema } from '../../../src/api/crds.js';
import { durationPattern } from '../../../src/api/schema-helpers.js';
import type { Canary } from '../../../src/api/types.js';
import { repoRoot } from '../../harness/tools.js';

describe('CRDs in crds/', () => {
  it.each(['crds', 'charts/weir/crds'])(
    '%s/ holds exactly what the TypeBox definitions generate (run `npm run gen:crds` after a schema change)',
    (dir) => {
      const generated = renderCrdFiles();
      const committed = readdirSync(path.join(repoRoot, dir)).sort();
      expect(committed).toEqual(generated.map(([f]) => f).sort());
      for (const [file, text] of generated) {
        expect(
          readFileSync(path.join(repoRoot, dir, file), 'utf8'),
          `${dir}/${file} is stale`,
        ).toBe(text);
      }
    },
  );

  it('define the four kinds with status subresources where Weir writes status', () => {
    expect(kinds.map((k) => [k.kind, Boolean(k.status)])).toEqual([
      ['Canary', true],
      ['MetricTemplate', false],
      ['AlertProvider', false],
      ['CanaryRun', true],
    ]);
  });

  it('give the inferred TypeScript types the fields of the schema', () => {
    // Compile-time check: this object must satisfy the inferred Canary type.
    const canary = {
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name: 'podinfo' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        service: { port: 9898, targetPort: 'http' },
        analysis: {
          interval: '30s',
          stepWeights: [10, 20],
          webhooks: [{ name: 'w', url: 'http://x/', type: 'pre-rollout' }],
        },
      },
    } satisfies Canary;
    expect(canary.spec.analysis.webhooks[0]!.type).toBe('pre-rollout');
  });

  it('bound every duration, map and list an author writes (ADR 0012)', () => {
    const unbounded: string[] = [];
    const walk = (node: Record<string, any>, path: string): void => {
      if (node.pattern === durationPattern) {
        const rules = (node['x-kubernetes-validations'] ?? []) as { rule: string }[];
        if (!rules.some((r) => /^duration\(self\) <= duration\('\d+[a-z]+'\)$/.test(r.rule)))
          unbounded.push(`${path}: duration without a maximum`);
      }
      if (node.type === 'object' && node.additionalProperties && node.maxProperties === undefined)
        unbounded.push(`${path}: map without maxProperties`);
      if (node.type === 'array' && node.maxItems === undefined)
        unbounded.push(`${path}: list without maxItems`);
      if (node.type === 'string' && node.maxLength === undefined && !node.enum && !node.format)
        unbounded.push(`${path}: string without maxLength`);
      for (const [k, v] of Object.entries(node.properties ?? {})) walk(v as any, `${path}.${k}`);
      if (node.items) walk(node.items, `${path}[]`);
      if (typeof node.additionalProperties === 'object')
        walk(node.additionalProperties, `${path}.<key>`);
    };
    for (const def of kinds.filter((k) => k.kind !== 'CanaryRun'))
      walk(plainSchema(def.spec), `${def.kind}.spec`);
    expect(unbounded).toEqual([]);
  });
});
