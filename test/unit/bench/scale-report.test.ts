import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../../bench/scale/report.js';
import type { SizeResult } from '../../../bench/scale/run.js';

describe('summaryTable', () => {
  it('prints a result read back from its JSON file, where NaN became null', () => {
    const result = {
      canaries: 100,
      namespaces: 10,
      controller: { name: 'flagger', argv: [], logFile: 'f.log' },
      completed: true,
      notes: [],
      bootstrap: { seconds: 41.5, initialized: 100, phases: {}, boundSeconds: 300 },
      release: {
        seconds: 90,
        succeeded: 100,
        failed: 0,
        phases: {},
        boundSeconds: 330,
        detectionMs: { count: 100, p50: 15500, p99: 20000, max: 21000, mean: 1, min: 1 },
        latenessMs: { count: 400, p50: 102, p99: 761, max: 902, mean: 1, min: 1 },
        weightChanges: 600,
      },
      memory: { rssMiB: { max: 69, final: NaN }, treeRssMiB: { max: 69, final: 69 } },
      cpuSeconds: { release: { controller: 10.2 } },
    } as unknown as SizeResult;
    const table = summaryTable([JSON.parse(JSON.stringify(result)) as SizeResult]);
    const row = table.split('\n').find((l) => l.startsWith('| flagger'));
    expect(row).toContain('| 69 / – |');
    expect(row).toContain('| 102 / 761 / 902 |');
    expect(row).toContain('| 17.0 |');
  });
});
