/**
 * `npm run bench:scale-report -- RESULTS.json...`: one set of tables from several
 * `bench:scale` runs (each its --out file), rows ordered by size and then by controller.
 * How Weir and Flagger are put side by side: each runs on its own fresh cluster, one after
 * the other, and their results meet here (docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import { cpuTable, machineLine, memoryLines, summaryTable, type Machine } from './scale/report.js';
import type { SizeResult } from './scale/run.js';

interface RunFile {
  command: string[];
  machine: Machine;
  results: SizeResult[];
  failures: { canaries: number; error: string }[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('Usage: npm run bench:scale-report -- RESULTS.json...\n');
  process.exit(2);
}
const runs = files.map((f) => ({ file: f, run: JSON.parse(readFileSync(f, 'utf8')) as RunFile }));
const results = runs
  .flatMap(({ run }) => run.results)
  .sort((a, b) => a.canaries - b.canaries || a.controller.name.localeCompare(b.controller.name));
process.stdout.write(
  [
    ...runs.flatMap(({ file, run }) => [
      `${file}: npm run bench:scale -- ${run.command.join(' ')}`,
      `  ${machineLine(run.machine)}`,
      ...run.failures.map((x) => `  ${x.canaries}: failed: ${x.error}`),
    ]),
    '',
    summaryTable(results),
    '',
    cpuTable(results),
    '',
    ...memoryLines(results),
    ...results.flatMap((r) =>
      r.notes.length ? [`${r.controller.name} at ${r.canaries}: ${r.notes.join('; ')}`] : [],
    ),
    '',
  ].join('\n'),
);
