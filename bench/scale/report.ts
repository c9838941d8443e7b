import type { SizeResult } from './run.js';
import type { Summary } from './stats.js';

/** The machine and the versions a run used. */
export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kubernetes: string;
  etcd: string;
  kwok: string;
  prometheus: string;
  weir: string;
}

/** A figure, or '–' where there is none (JSON turns NaN into null, so results read back hold null). */
const f = (v: number | null | undefined, digits = 0) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(digits);
const triple = (s: Summary | undefined) =>
  s && s.count !== 0 ? `${f(s.p50)} / ${f(s.p99)} / ${f(s.max)}` : '–';

/** The summary table: one row per size. */
export function summaryTable(results: readonly SizeResult[]): string {
  const rows = results.map((r) => {
    const rel = r.release;
    const api = r.apiRequests;
    const reads = api
      ? ['get', 'list', 'watch'].reduce((a, v) => a + (api.perWeightStep[v] ?? 0), 0)
      : undefined;
    const cpu = r.cpuSeconds.release ?? {};
    const status = r.completed
      ? 'done'
      : `stopped: ${rel ? `${rel.succeeded + rel.failed}/${r.canaries} released` : `${r.bootstrap.initialized}/${r.canaries} initialized`}`;
    return [
      r.controller.name,
      r.canaries,
      f(r.bootstrap.seconds, 1),
      triple(rel?.detectionMs),
      triple(rel?.latenessMs),
      api
        ? `${f(api.writesPerWeightStep, 2)} / ${api.steadyStep ? f(api.steadyStep.perStep, 2) : '–'}`
        : '–',
      reads !== undefined ? f(reads, 2) : '–',
      r.prometheus
        ? `${f(r.prometheus.perSecond, 1)} / ${f(r.prometheus.meanMs, 1)} / ${f(r.controllerQueries?.p99Ms, 0)}`
        : '–',
      `${f(r.memory.rssMiB.max)} / ${f(r.memory.rssMiB.final)}`,
      f(cpu.controller, 1),
      rel && rel.weightChanges > 0 && cpu.controller !== undefined
        ? f((cpu.controller * 1000) / rel.weightChanges, 1)
        : '–',
      f(cpu['kube-apiserver'], 1),
      f(cpu.etcd, 1),
      f(r.eventLoopLagP99Ms?.max, 1),
      rel ? `${rel.succeeded}✓ ${rel.failed}✗` : '–',
      status,
    ];
  });
  return table(
    [
      'controller',
      'canaries',
      'bootstrap s',
      'detection ms p50/p99/max',
      'step lateness ms p50/p99/max',
      'writes/step all / steady',
      'reads/step',
      'Prom q/s / mean ms / ctrl-side p99 ms',
      'RSS MiB max/final',
      'ctrl CPU s',
      'ctrl CPU ms per weight change',
      'apiserver CPU s',
      'etcd CPU s',
      'loop lag p99 ms (max)',
      'releases',
      'run',
    ],
    rows,
  );
}

/** API requests of the controller by verb, per window, as the API server recorded them. */
export function requestTable(results: readonly SizeResult[]): string {
  const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
  const rows: (string | number)[][] = [];
  for (const r of results) {
    if (!r.apiRequests) continue;
    for (const [name, w] of Object.entries(r.apiRequests.windows)) {
      rows.push([
        r.canaries,
        name,
        f(w.seconds, 0),
        ...verbs.map((v) => w.byVerb[v] ?? 0),
        w.total,
        f(w.perSecond, 1),
      ]);
    }
    rows.push([
      r.canaries,
      'per release',
      '',
      ...verbs.map((v) => f(r.apiRequests!.perRelease[v] ?? 0, 2)),
      '',
      '',
    ]);
    rows.push([
      r.canaries,
      'per weight step',
      '',
      ...verbs.map((v) => f(r.apiRequests!.perWeightStep[v] ?? 0, 2)),
      '',
      '',
    ]);
  }
  return rows.length ? table(['canaries', 'window', 's', ...verbs, 'total', 'per s'], rows) : '';
}

/** CPU seconds by process and phase. */
export function cpuTable(results: readonly SizeResult[]): string {
  const rows: (string | number)[][] = [];
  const names = [
    'controller',
    'kube-apiserver',
    'etcd',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
    'prometheus',
    'bench (with exporter)',
  ];
  for (const r of results)
    for (const [phase, cpu] of Object.entries(r.cpuSeconds))
      rows.push([r.controller.name, r.canaries, phase, ...names.map((n) => f(cpu[n], 1))]);
  return rows.length ? table(['run', 'canaries', 'phase', ...names], rows) : '';
}

/** Where the controller's writes of one release went, by `verb resource`, one line per size. */
export function writeBreakdown(results: readonly SizeResult[]): string[] {
  const writeVerbs = ['create', 'update', 'patch', 'delete'];
  return results.flatMap((r) => {
    const w = r.apiRequests?.windows.release;
    const releases = r.release ? r.release.succeeded + r.release.failed : 0;
    if (!w || releases === 0) return [];
    const parts = Object.entries(w.byResource)
      .filter(([k]) => writeVerbs.includes(k.split(' ')[0]!))
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${(v / releases).toFixed(1)}`);
    const rec = r.reconciles
      ? `; reconciles ${(r.reconciles.queries / releases).toFixed(1)} per release, p50 ${f(r.reconciles.p50Ms, 0)} ms, p99 ${f(r.reconciles.p99Ms, 0)} ms`
      : '';
    const steady = r.apiRequests?.steadyStep;
    const step =
      steady && steady.steps > 0
        ? `; a steady weight step (${steady.steps} measured): ${Object.entries(steady.byResource)
            .map(([k, v]) => `${k} ${f(v, 2)}`)
            .join(', ')}`
        : '';
    return [`${r.canaries}: writes per release: ${parts.join(', ')}${rec}${step}`];
  });
}

/** Memory of the controller, one line per size. */
export function memoryLines(results: readonly SizeResult[]): string[] {
  return results.map((r) => {
    const m = r.memory;
    const node = m.node
      ? `; Node heap used ${f(m.node.heapUsedMiB)} MiB (live after the last full GC ${f(m.node.liveHeapMiB)} MiB) of ${f(m.node.heapTotalMiB)} MiB reserved, external ${f(m.node.externalMiB)} MiB (at the end of the releases)`
      : '';
    return `${r.controller.name} at ${r.canaries}: controller RSS ${f(m.bootstrappedRssMiB)} MiB bootstrapped, max ${f(m.rssMiB.max)}, final ${f(m.rssMiB.final)} (with child processes: max ${f(m.treeRssMiB.max)})${node}`;
  });
}

/** The machine and versions, as one line. */
export function machineLine(m: Machine): string {
  return `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB; Node ${m.node}, Kubernetes ${m.kubernetes}, etcd ${m.etcd}, KWOK ${m.kwok}, Prometheus ${m.prometheus}, Weir ${m.weir}`;
}

function table(header: string[], rows: (string | number)[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
