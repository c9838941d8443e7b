import { describe, expect, it } from 'vitest';
import {
  canonicalPath,
  joinPath,
  parseYamlFile,
  type SourceDocument,
} from '../../../src/lint/yaml-source.js';

const text = `# leading comment
apiVersion: weir.dev/v1alpha1
kind: Canary
spec:
  analysis:
    stepWeights: [5, 10,
      20]
    metrics:
      - name: a
        thresholdRange: {min: 1}
---
---
kind: Second
`;

describe('parseYamlFile', () => {
  const docs = parseYamlFile('x.yaml', text) as SourceDocument[];

  it('returns every non-empty document with its index in the file', () => {
    expect(docs.map((d) => [d.index, (d.value as { kind: string }).kind])).toEqual([
      [0, 'Canary'],
      [2, 'Second'],
    ]);
  });

  it('records 1-based line:column of keys and sequence items', () => {
    const at = (p: string) => {
      const pos = docs[0]!.positions.get(p);
      return pos && `${pos.line}:${pos.column}`;
    };
    expect(at('kind')).toBe('3:1');
    expect(at('spec.analysis.stepWeights')).toBe('6:5');
    expect(at('spec.analysis.stepWeights[2]')).toBe('7:7');
    expect(at('spec.analysis.metrics[0].thresholdRange.min')).toBe('10:26');
    expect(docs[1]!.start).toEqual({ line: 13, column: 1 });
  });

  it('reports duplicated keys at the duplicate', () => {
    expect(parseYamlFile('d.yaml', 'a: 1\nb: 2\na: 3\n')).toEqual({
      file: 'd.yaml',
      position: { line: 3, column: 1 },
      message: 'YAML: duplicated mapping key',
    });
  });

  it('reports syntax errors with their position', () => {
    const r = parseYamlFile('e.yaml', 'spec:\n  a: [1, 2\n  b: 3\n');
    expect(r).toMatchObject({ file: 'e.yaml', message: expect.stringMatching(/^YAML: /) });
  });

  it('refuses aliases, which can expand a small file into a huge document', () => {
    expect(parseYamlFile('a.yaml', 'a: &x [1, 2]\nb: *x\n')).toMatchObject({
      message: expect.stringMatching(/alias/i),
    });
  });
});

describe('joinPath and canonicalPath', () => {
  it('print paths as Kubernetes does: fields with dots, map keys and indexes in brackets', () => {
    expect(joinPath(joinPath(joinPath('', 'spec'), 'metrics'), 0)).toBe('spec.metrics[0]');
    expect(joinPath('metadata.annotations', 'weir.dev/approved', true)).toBe(
      'metadata.annotations[weir.dev/approved]',
    );
  });

  it('reduce map keys to the form positions are recorded under', () => {
    expect(canonicalPath('spec.analysis.match[0].headers[x-canary].exact')).toBe(
      'spec.analysis.match[0].headers.x-canary.exact',
    );
    expect(canonicalPath('spec.a[12]')).toBe('spec.a[12]');
  });
});
