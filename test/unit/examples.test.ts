import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintPaths } from '../../src/lint/lint.js';
import { repoRoot } from '../harness/tools.js';

describe('examples/', () => {
  it('pass weir lint without errors or warnings', async () => {
    const report = await lintPaths([path.join(repoRoot, 'examples')]);
    expect(report.findings.map((f) => `${f.file}:${f.line}: ${f.message}`)).toEqual([]);
    expect(report.documents).toBeGreaterThanOrEqual(8);
  });
});
