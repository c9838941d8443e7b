import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatText, lintPaths } from '../../../src/lint/lint.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-lint-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const canary = (extra = '') => `apiVersion: weir.dev/v1alpha1
kind: Canary
metadata:
  name: web
  namespace: team
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  service: { port: 80 }
  analysis:
    stepWeight: 10
    maxWeight: 50
    metrics:
      - name: errors
        templateRef: { name: errors }
        thresholdRange: { max: 1 }
${extra}`;

describe('lintPaths', () => {
  it('points errors at file:line:column with the field path', async () => {
    const dir = folder({ 'c.yaml': canary('    stepWeights: [1]\n') });
    const result = await lintPaths([dir]);
    expect(result.errors).toBe(1);
    expect(result.findings.find((f) => f.severity === 'error')).toMatchObject({
      file: path.join(dir, 'c.yaml'),
      line: 16,
      column: 5,
      path: 'spec.analysis.stepWeights',
      message: 'set stepWeight or stepWeights, not both',
      object: 'Canary/web',
    });
  });

  it('warns about references outside the scanned files and resolves those inside', async () => {
    const template = `apiVersion: weir.dev/v1alpha1
kind: MetricTemplate
metadata: { name: errors, namespace: team }
spec:
  provider: { type: prometheus, address: "http://prometheus:9090" }
  query: sum(rate(x[1m]))
`;
    const result = await lintPaths([folder({ 'c.yaml': canary(), 'm.yaml': template })]);
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => `${f.severity} ${f.path} ${f.message}`)).toEqual([
      'warning spec.targetRef.name Deployment team/web is not in the scanned files (it must exist in the cluster)',
    ]);
  });

  it('is an error when the target Deployment in the scanned files has no selector labels', async () => {
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: team }
spec:
  selector: {}
  template: { metadata: {}, spec: { containers: [] } }
`;
    const result = await lintPaths([folder({ 'c.yaml': canary(), 'd.yaml': deploy })]);
    expect(result.findings.filter((f) => f.severity === 'error').map((f) => f.message)).toEqual([
      expect.stringMatching(/Deployment web has no spec.selector.matchLabels/),
    ]);
  });

  it('ignores documents of other projects and reports YAML errors per file', async () => {
    const result = await lintPaths([
      folder({
        'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {whatever: 1}\n',
        'bad.yml': 'a: [\n',
      }),
    ]);
    expect(result.documents).toBe(1);
    expect(result.findings).toEqual([
      expect.objectContaining({ severity: 'error', message: expect.stringMatching(/^YAML: /) }),
    ]);
  });

  it('formats findings for people, one per line, with a summary', async () => {
    const dir = folder({ 'c.yaml': canary('    stepWeights: [1]\n') });
    const text = formatText(await lintPaths([dir]));
    expect(text).toContain(
      `${path.join(dir, 'c.yaml')}:16:5: error: spec.analysis.stepWeights: set stepWeight or stepWeights, not both (Canary/web)`,
    );
    expect(text).toMatch(/1 file\(s\), 1 document\(s\): 1 error\(s\), 2 warning\(s\)\n$/);
  });

  it('reports a path that does not exist instead of throwing', async () => {
    const result = await lintPaths(['/nonexistent/weir']);
    expect(result.findings[0]).toMatchObject({ severity: 'error', message: 'cannot read: ENOENT' });
  });
});
