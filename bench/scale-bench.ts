/**
 * Scale benchmark (issue #9): N Deployments and N Canaries (Gateway API, one
 * MetricTemplate metric against a real Prometheus, 10 s interval, steps of 10 up
 * to 50) on a fresh local KWOK control plane per size; bootstrap, then one
 * release of every canary (or a continuous soak). Prints a Markdown table and
 * writes JSON; asserts nothing.
 * Usage: npm run bench:scale -- --canaries 100,500 [--soak 30m] [--help]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { repoRoot, versions } from '../test/harness/tools.js';
import { parseScaleOptions, usage, type ScaleOptions } from './scale/options.js';
import {
  cpuTable,
  machineLine,
  memoryLines,
  requestTable,
  summaryTable,
  writeBreakdown,
  type Machine,
} from './scale/report.js';
import { runSize, type MemoryTrend, type SizeResult } from './scale/run.js';

let options: ScaleOptions | undefined;
try {
  options = parseScaleOptions(process.argv.slice(2));
} catch (err) {
  console.error(`bench:scale: ${(err as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (!options) {
  process.stdout.write(usage);
  process.exit(0);
}

const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const outFile = path.resolve(
  options.out ?? path.join(repoRoot, '.tmp/bench', `scale-${stamp}.json`),
);
const outDir = path.join(path.dirname(outFile), `scale-${stamp}`);
await mkdir(outDir, { recursive: true });

// Ctrl-C: stop whatever the current size started, then exit.
const aborts = new Set<() => Promise<void>>();
let aborting = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (aborting) return;
  aborting = true;
  console.error(`\nbench:scale: ${signal}: cleaning up …`);
  void Promise.allSettled([...aborts].map((a) => a())).then(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const log = (message: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
const machine: Machine = {
  cores: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kubernetes: versions.kubernetes,
  etcd: versions.etcd,
  kwok: versions.kwok,
  prometheus: prometheusVersion(),
  weir: weirRevision(),
};

const results: SizeResult[] = [];
const failures: { canaries: number; error: string }[] = [];
for (const n of options.sizes) {
  if (aborting) break;
  try {
    results.push(
      await runSize(n, options, {
        outDir,
        log,
        onAbort: (cleanup) => {
          aborts.add(cleanup);
          return () => aborts.delete(cleanup);
        },
      }),
    );
  } catch (err) {
    if (aborting) break;
    log(`[${n}] failed: ${(err as Error).message}`);
    failures.push({ canaries: n, error: (err as Error).message });
  }
  await writeResults();
}

await writeResults();
const md = [
  '',
  `Scale benchmark: ${options.controllerName}, ${options.apiGroup}/${options.apiVersion}, provider ${options.provider}, interval ${options.intervalSeconds}s, stepWeight ${options.stepWeight}, maxWeight ${options.maxWeight}${options.soakMs ? `, soak ${options.soakMs / 1000}s` : ''}`,
  machineLine(machine),
  `Command: npm run bench:scale -- ${process.argv.slice(2).join(' ')}`,
  '',
  summaryTable(results),
  '',
  requestTable(results),
  '',
  cpuTable(results),
  '',
  ...writeBreakdown(results),
  ...memoryLines(results),
  '',
  ...results.flatMap((r) =>
    r.soak
      ? [
          `Soak (${r.canaries} canaries, ${r.soak.seconds}s, ${r.soak.releasesCompleted} releases): RSS ${trend(r.soak.rssMiB)}${r.soak.liveHeapMiB ? `; live heap after full GCs ${trend(r.soak.liveHeapMiB)}` : ''}`,
          '',
        ]
      : [],
  ),
  ...results.flatMap((r) => (r.notes.length ? [`${r.canaries}: ${r.notes.join('; ')}`] : [])),
  ...failures.map((x) => `${x.canaries}: failed: ${x.error}`),
  ...results.flatMap((r) => profileLines(r)),
  '',
  `Results: ${outFile}`,
  `Logs: ${outDir}`,
  '',
].join('\n');
process.stdout.write(md);
process.exit(failures.length > 0 || results.some((r) => !r.completed) ? 1 : 0);

async function writeResults(): Promise<void> {
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(
    outFile,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        command: process.argv.slice(2),
        options,
        machine,
        results,
        failures,
      },
      null,
      2,
    ),
  );
}

function prometheusVersion(): string {
  try {
    const out = execFileSync('prometheus', ['--version'], { encoding: 'utf8' });
    return /version (\S+)/.exec(out)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function weirRevision(): string {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
    const sha = git(['rev-parse', '--short=12', 'HEAD']);
    return git(['status', '--porcelain']) ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** The busiest CPU profile of a size (the main thread; tsx's loader thread is mostly idle). */
function profileLines(r: SizeResult): string[] {
  const p = [...(r.profiles ?? [])].sort((a, b) => b.summary.busyMs - a.summary.busyMs)[0];
  if (!p) return [];
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const { summary: s } = p;
  return [
    '',
    `CPU profile of the controller at ${r.canaries} canaries: ${p.file}`,
    `busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s; shares of busy time by category:`,
    ...s.categories.map((o) => `  ${pct(o.share)}  ${o.name}`),
    'by owner:',
    ...s.owners.map((o) => `  ${pct(o.share)}  ${o.name}`),
    'by function:',
    ...s.functions.map((o) => `  ${pct(o.share)}  ${o.name}`),
  ];
}

function trend(t: MemoryTrend): string {
  return `first ${t.first} MiB, last ${t.last} MiB, max ${t.max} MiB, slope ${t.slopePerHour} MiB/hour (second half ${t.secondHalfSlopePerHour}) over ${t.samples} samples`;
}
