import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintPaths } from '../../src/lint/lint.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { repoRoot } from '../harness/tools.js';
import { installWeirCrds } from '../harness/weir.js';

const fixtures = path.join(repoRoot, 'test/fixtures');
const validFiles = readdirSync(path.join(fixtures, 'valid')).filter((f) => f.endsWith('.yaml'));

/** Invalid fixtures plus cases that are generated rather than committed. */
function invalidCases(): { name: string; file: string; expect: string }[] {
  const dir = path.join(fixtures, 'invalid');
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => {
      const file = path.join(dir, f);
      const expectLine = /^# expect: (\S+)/m.exec(readFileSync(file, 'utf8'));
      if (!expectLine) throw new Error(`${f} has no "# expect: <field path>" line`);
      return { name: f, file, expect: expectLine[1]! };
    });
  // A huge document: 300 KiB of annotations, over the API server's 256 KiB limit.
  const generated = mkdtempSync(path.join(tmpdir(), 'weir-huge-'));
  const huge = path.join(generated, 'huge-annotations.yaml');
  const valid = yaml.load(
    readFileSync(path.join(fixtures, 'valid/weir-blue-green-kubernetes.yaml'), 'utf8'),
  ) as any;
  delete valid.metadata.namespace;
  valid.metadata.annotations = { bulk: 'x'.repeat(300 * 1024) };
  writeFileSync(huge, yaml.dump(valid));
  cases.push({
    name: 'generated: huge-annotations.yaml',
    file: huge,
    expect: 'metadata.annotations',
  });
  return cases;
}

// Given the Weir CRDs installed in a real API server.
describe('Canary API: the API server and weir lint agree', () => {
  let cluster: Cluster;
  const cases = invalidCases();

  beforeAll(async () => {
    // Router CRDs too: the full example declares a Gateway API Gateway.
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    for (const ns of ['test', 'shop', 'invalid'])
      await cluster.kubectl(['create', 'namespace', ns]);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('has a bad-input corpus of at least 40 manifests', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(validFiles.map((f, i) => [f, i] as const))(
    'accepts valid/%s, in the API server and in weir lint',
    async (file, i) => {
      const full = path.join(fixtures, 'valid', file);
      // Each file in a namespace of its own: several examples share names (podinfo).
      const namespace = `valid-${i}`;
      await cluster.kubectl(['create', 'namespace', namespace]);
      const docs = yaml.loadAll(readFileSync(full, 'utf8')) as {
        metadata: { namespace?: string };
      }[];
      for (const d of docs) d.metadata.namespace = namespace;
      const out = await cluster.kubectl(
        ['create', '-f', '-'],
        docs.map((d) => yaml.dump(d)).join('---\n'),
      );
      expect(out.trim().split('\n')).toHaveLength(docs.length);
      const lint = await lintPaths([full]);
      expect(lint.findings.filter((f) => f.severity === 'error')).toEqual([]);
    },
  );

  it.each(cases.map((c) => [c.name, c] as const))(
    'rejects invalid/%s in both, naming the same field',
    async (_name, c) => {
      const apiError = await cluster.kubectl(['create', '-n', 'invalid', '-f', c.file]).then(
        () => undefined,
        (err: { stderr?: string }) => err.stderr ?? String(err),
      );
      expect(apiError, 'the API server accepted an invalid manifest').toBeDefined();
      // kubectl cannot even map an unknown group/version/kind to a resource.
      const unmapped =
        /no matches for kind/.test(apiError!) && ['apiVersion', 'kind'].includes(c.expect);
      if (!unmapped) expect(apiError).toContain(c.expect);

      const lint = await lintPaths([c.file]);
      const errors = lint.findings.filter((f) => f.severity === 'error');
      expect(errors.length, 'weir lint accepted an invalid manifest').toBeGreaterThan(0);
      expect(errors.map((e) => e.path)).toContain(c.expect);
    },
  );

  it('rejects YAML syntax errors and duplicated keys before they reach the cluster, in both', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weir-yaml-'));
    const source = readFileSync(path.join(fixtures, 'valid/weir-ab-testing.yaml'), 'utf8');
    const broken = {
      'syntax.yaml': source.replace('iterations: 10', 'iterations: [10'),
      'duplicate.yaml': source.replace('threshold: 2', 'threshold: 2\n    threshold: 3'),
    };
    for (const [name, text] of Object.entries(broken)) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      await expect(cluster.kubectl(['create', '-n', 'invalid', '-f', file])).rejects.toThrow();
      const lint = await lintPaths([file]);
      expect(lint.errors, name).toBe(1);
      expect(lint.findings[0]!.message).toMatch(/^YAML: /);
    }
  });

  it('documents the fields for kubectl explain', async () => {
    const out = await cluster.kubectl(['explain', 'canaries.spec.analysis']);
    expect(out).toMatch(
      /stepWeights\s+<\[\]integer>\s+Explicit weights of each step, strictly increasing/,
    );
    expect(out).toMatch(/interval\s+<string>\s+Time between analysis steps/);
  });

  it('serves the printer columns in the API table output', async () => {
    // kubectl asks the API server for a meta.k8s.io/v1 Table and prints its columns as they come.
    const wide = await cluster.kubectl(['get', 'canaries.weir.dev', '-A', '-o', 'wide']);
    expect(wide.split('\n')[0]!.split(/\s+/)).toEqual(
      expect.arrayContaining([
        'NAME',
        'STATUS',
        'WEIGHT',
        'FAILEDCHECKS',
        'REVISION',
        'LASTTRANSITIONTIME',
        'PROVIDER',
        'INTERVAL',
        'STEPWEIGHT',
        'MAXWEIGHT',
      ]),
    );
    const narrow = await cluster.kubectl(['get', 'canary', '-A']);
    expect(narrow).toMatch(/valid-\d+\s+podinfo/);
    expect(narrow.split('\n')[0]!.trim().split(/\s+/)).toEqual([
      'NAMESPACE',
      'NAME',
      'STATUS',
      'WEIGHT',
      'FAILEDCHECKS',
      'REVISION',
      'LASTTRANSITIONTIME',
    ]);
  });
});
