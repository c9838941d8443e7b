import * as k8s from '@kubernetes/client-node';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../../test/harness/ports.js';
import { repoRoot } from '../../test/harness/tools.js';
import { setImage } from '../../test/harness/weir.js';
import { countAuditLog, type RequestCounts, type Window } from './audit.js';
import { readWrites, steadyStepWrites, type SteadySteps } from './step-writes.js';
import {
  compileController,
  defaultControllerArgv,
  startControllerProcess,
  type ControllerProcess,
} from './controller-process.js';
import {
  componentSettings,
  controllerUser,
  startEnvironment,
  type Environment,
} from './environment.js';
import {
  counterDelta,
  cpuBetween,
  cpuCheckpoint,
  histogramStats,
  pollMetric,
  scrape,
  type CpuCheckpoint,
  type HistogramStats,
} from './measure.js';
import { boundsFor, fillPlaceholders, type ScaleOptions } from './options.js';
import { Observer } from './observer.js';
import { forEachLimit, withRetry } from './pool.js';
import { sampleMemory, type MemorySample } from './proc.js';
import { summarizeProfiles } from './profile.js';
import { phaseCounts, releaseView, type ReleaseView } from './releases.js';
import { percentile, slopePerHour, summarize, type Summary } from './stats.js';
import {
  canary,
  canaryAt,
  deployment,
  imageOf,
  metricTemplate,
  namespacesFor,
  type WorkloadSpec,
} from './workload.js';

/** Hooks the entry point gives a run. */
export interface RunContext {
  /** Directory for logs, profiles and snapshots of this invocation. */
  outDir: string;
  log(message: string): void;
  /** Registers a cleanup for Ctrl-C; returns a function that unregisters it. */
  onAbort(cleanup: () => Promise<void>): () => void;
}

/** Everything measured for one size. */
export interface SizeResult {
  canaries: number;
  namespaces: number;
  controller: { name: string; argv: string[]; logFile: string; exit?: string };
  completed: boolean;
  notes: string[];
  bootstrap: {
    seconds?: number;
    initialized: number;
    phases: Record<string, number>;
    boundSeconds: number;
  };
  release?: {
    seconds?: number;
    succeeded: number;
    failed: number;
    phases: Record<string, number>;
    boundSeconds: number;
    detectionMs: Summary;
    latenessMs: Summary;
    weightChanges: number;
  };
  soak?: {
    seconds: number;
    releasesCompleted: number;
    rssMiB: MemoryTrend;
    /** V8's heap right after each full GC (weir_nodejs_heap_live_bytes; default command only). */
    liveHeapMiB?: MemoryTrend;
  };
  apiRequests?: {
    source: string;
    user: string;
    windows: Record<string, RequestCounts & { seconds: number; perSecond: number }>;
    perRelease: Record<string, number>;
    perWeightStep: Record<string, number>;
    writesPerWeightStep: number;
    /** Writes of a steady weight step (mid-release), by the Canary's objects. */
    steadyStep?: SteadySteps;
  };
  clientRequests?: { release: Record<string, number> };
  /** Instant queries as Prometheus recorded them (its own request histogram). */
  prometheus?: HistogramStats;
  /** The same queries as the controller timed them, if it exports weir_metric_query_duration_seconds. */
  controllerQueries?: HistogramStats;
  /** Reconciles during the releases, if the controller exports weir_reconcile_duration_seconds. */
  reconciles?: HistogramStats;
  memory: {
    rssMiB: { max: number; final: number };
    treeRssMiB: { max: number; final: number };
    /** RSS at the end of bootstrap (all Initialized), before any release. */
    bootstrappedRssMiB?: number;
    /** Node's own view when the releases ended (Weir's /metrics): live heap, heap reserved, external. */
    node?: { heapUsedMiB: number; liveHeapMiB: number; heapTotalMiB: number; externalMiB: number };
    /** [seconds since the controller started, RSS MiB] */
    samples?: [number, number][];
  };
  cpuSeconds: Record<string, Record<string, number>>;
  eventLoopLagP99Ms?: { max: number; median: number; samples: number };
  settings: ReturnType<typeof componentSettings>;
  profiles?: Awaited<ReturnType<typeof summarizeProfiles>>;
  heapSnapshot?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const writes = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * One size: a fresh cluster, N Deployments and Canaries, the controller, bootstrap,
 * one release of every canary (or a soak), then everything stopped. Every wait is
 * bounded; a size that runs out of time reports how far it got.
 */
export async function runSize(
  n: number,
  options: ScaleOptions,
  ctx: RunContext,
): Promise<SizeResult> {
  const bounds = boundsFor(n, options);
  const intervalMs = options.intervalSeconds * 1000;
  const notes: string[] = [];
  const runDir = path.join(ctx.outDir, `n${n}`);
  await mkdir(runDir, { recursive: true });

  ctx.log(`[${n}] starting the control plane, Prometheus and the exporter`);
  const env: Environment = await startEnvironment(n, options);
  let controller: ControllerProcess | undefined;
  let observer: Observer | undefined;
  let memory: ReturnType<typeof sampleMemory> | undefined;
  let lag: ReturnType<typeof pollMetric> | undefined;
  let heap: ReturnType<typeof pollMetric> | undefined;
  const teardown = async () => {
    memory?.stop();
    lag?.stop();
    heap?.stop();
    await controller?.stop();
    await observer?.stop();
    await env.stop();
  };
  const unregister = ctx.onAbort(teardown);
  try {
    const spec: WorkloadSpec = {
      apiGroup: options.apiGroup,
      apiVersion: options.apiVersion,
      provider: options.provider,
      intervalSeconds: options.intervalSeconds,
      stepWeight: options.stepWeight,
      maxWeight: options.maxWeight,
      prometheusUrl: env.prometheus.url,
      gatewayNamespace: 'weir-bench-system',
    };
    const kc = env.kubeConfig;
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const canaries = Array.from({ length: n }, (_, i) => canaryAt(i, options.namespaces));

    ctx.log(`[${n}] creating ${n} Deployments in ${Math.min(n, options.namespaces)} namespaces`);
    for (const ns of namespacesFor(n, options.namespaces)) {
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await withRetry(() => objects.create(metricTemplate(spec, ns) as k8s.KubernetesObject));
    }
    await forEachLimit(canaries, 16, (c) =>
      withRetry(() => objects.create(deployment(c.namespace, c.name) as k8s.KubernetesObject)).then(
        () => undefined,
      ),
    );
    const available = await waitUntil(bounds.setupMs, 3_000, async () => {
      const list = await apps.listDeploymentForAllNamespaces({ resourceVersion: '0' });
      const ready = list.items.filter(
        (d) =>
          d.metadata?.namespace?.startsWith('bench-') && (d.status?.availableReplicas ?? 0) >= 1,
      ).length;
      return ready >= n ? ready : undefined;
    });
    if (available === undefined)
      notes.push('Not every Deployment became available before the bound');
    // The analysis needs a rate over 1m: two scrapes of every pod's series.
    await waitUntil(60_000, 2_000, async () => {
      const r = await env.prometheus.query(
        'count(rate(http_request_duration_seconds_count[1m]) >= 0)',
      );
      return (r[0]?.value ?? 0) >= 4 * n ? true : undefined;
    });
    ctx.log(`[${n}] creating ${n} Canaries`);
    await forEachLimit(canaries, 16, (c) =>
      withRetry(() =>
        objects.create(canary(spec, c.namespace, c.name) as k8s.KubernetesObject),
      ).then(() => undefined),
    );
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    observer = new Observer(
      kc,
      { group: options.apiGroup, version: options.apiVersion },
      createLogger('warn', quiet),
    );
    await observer.start();

    // The controller.
    const [metricsPort, probePort] = await Promise.all([freePort(), freePort()]);
    const profDir = options.cpuProfDir
      ? path.resolve(options.cpuProfDir, `n${n}-${Date.now()}`)
      : undefined;
    const heapDir = options.heapSnapshotDir
      ? path.resolve(options.heapSnapshotDir, `n${n}-${Date.now()}`)
      : undefined;
    for (const d of [profDir, heapDir]) if (d) await mkdir(d, { recursive: true });
    const built = options.compiled
      ? compileController(repoRoot, path.join(repoRoot, '.tmp', 'bench-dist'))
      : undefined;
    const nodeFlags = [
      ...(built?.nodeFlags ?? []),
      ...options.nodeOptions,
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      ...(heapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : []),
    ];
    const script = built?.main;
    const template =
      options.controllerCmd ?? defaultControllerArgv(nodeFlags, options.controllerArgs, script);
    const argv = fillPlaceholders(template, {
      kubeconfig: env.controllerKubeconfig,
      prometheus: env.prometheus.url,
      metricsPort: String(metricsPort),
      probePort: String(probePort),
    });
    const metricsUrl = template.some((a) => a.includes('{metricsPort}'))
      ? `http://127.0.0.1:${metricsPort}/metrics`
      : undefined;
    const logFile = path.join(runDir, 'controller.log');
    const components: Record<string, number> = {};
    for (const c of env.cluster.components) if (c.pid !== undefined) components[c.name] = c.pid;
    if (env.prometheus.pid !== undefined) components.prometheus = env.prometheus.pid;

    ctx.log(`[${n}] starting the controller: ${argv.join(' ')}`);
    const checkpoints: Record<string, CpuCheckpoint> = {};
    checkpoints.start = await cpuCheckpoint(undefined, components);
    const bootstrapStart = Date.now();
    controller = await startControllerProcess({ argv, logFile, cwd: repoRoot });
    const ctrl = controller;
    memory = sampleMemory(ctrl.pid, options.soakMs ? 10_000 : 3_000);
    if (metricsUrl) lag = pollMetric(metricsUrl, 5_000, 'weir_nodejs_eventloop_lag_p99_seconds');
    if (metricsUrl && options.soakMs)
      heap = pollMetric(metricsUrl, 10_000, 'weir_nodejs_heap_live_bytes');
    const alive = () => {
      if (ctrl.exit)
        throw new Error(`The controller exited (${describeExit(ctrl)}); see ${logFile}`);
    };

    // Bootstrap: every canary Initialized.
    const obs = observer;
    const phases = () => canaries.map((c) => obs.phaseOf(c.key));
    const initialized = await waitUntil(bounds.bootstrapMs, 500, async () => {
      alive();
      const done = phases().filter((p) => p === 'Initialized' || p === 'Succeeded').length;
      return done >= n ? done : undefined;
    });
    const lastInit = Math.max(
      ...canaries.map(
        (c) => obs.timelines.get(c.key)?.phases.find((p) => p.phase === 'Initialized')?.at ?? 0,
      ),
    );
    const result: SizeResult = {
      canaries: n,
      namespaces: Math.min(n, options.namespaces),
      controller: { name: options.controllerName, argv, logFile },
      completed: false,
      notes,
      bootstrap: {
        ...(initialized !== undefined
          ? { seconds: round((lastInit - bootstrapStart) / 1000, 1) }
          : {}),
        initialized: phases().filter((p) => p === 'Initialized' || p === 'Succeeded').length,
        phases: phaseCounts(phases()),
        boundSeconds: bounds.bootstrapMs / 1000,
      },
      memory: { rssMiB: { max: NaN, final: NaN }, treeRssMiB: { max: NaN, final: NaN } },
      cpuSeconds: {},
      settings: componentSettings(options),
    };
    checkpoints.bootstrapped = await cpuCheckpoint(ctrl.pid, components);
    if (initialized === undefined) {
      notes.push(`Bootstrap did not finish within ${bounds.bootstrapMs / 1000}s`);
      ctx.log(`[${n}] bootstrap did not finish: ${JSON.stringify(result.bootstrap.phases)}`);
    } else {
      ctx.log(
        `[${n}] bootstrapped in ${result.bootstrap.seconds}s; idle for ${options.intervalSeconds + 5}s`,
      );
    }

    const windows: Window[] = [{ name: 'bootstrap', from: bootstrapStart, to: Date.now() }];
    const idleFrom = Date.now();
    await sleep(intervalMs + 5_000);
    windows.push({ name: 'idle', from: idleFrom, to: Date.now() });
    checkpoints.idle = await cpuCheckpoint(ctrl.pid, components);

    // Releases.
    const promBefore = await scrape(`${env.prometheus.url}/metrics`);
    const ctrlBefore = metricsUrl ? await scrape(metricsUrl) : undefined;
    const releaseStart = Date.now();
    const sent = new Map<string, number[]>();
    const generation = new Map<string, number>();
    const update = async (c: (typeof canaries)[number]) => {
      const g = (generation.get(c.key) ?? 1) + 1;
      generation.set(c.key, g);
      const list = sent.get(c.key) ?? [];
      list.push(Date.now());
      sent.set(c.key, list);
      await withRetry(() => setImage(apps, c.namespace, c.name, imageOf(c.name, g)));
    };
    let views: ReleaseView[] = [];
    let releaseEnd: number;
    if (options.soakMs === undefined) {
      ctx.log(`[${n}] updating every Deployment's image and following the releases`);
      await forEachLimit(canaries, 16, update);
      const viewOf = (c: (typeof canaries)[number]) =>
        releaseView(obs.timelines.get(c.key), sent.get(c.key)![0]!, intervalMs);
      const ended = await waitUntil(bounds.releaseMs, 1_000, async () => {
        alive();
        return canaries.every((c) => viewOf(c).result) ? true : undefined;
      });
      views = canaries.map(viewOf);
      releaseEnd = ended ? Math.max(...views.map((v) => v.endedAt ?? 0)) : Date.now();
      if (!ended) notes.push(`Not every release ended within ${bounds.releaseMs / 1000}s`);
    } else {
      ctx.log(`[${n}] soak: releasing continuously for ${options.soakMs / 1000}s`);
      const soakEnd = releaseStart + options.soakMs;
      const pending = new Set<Promise<void>>();
      let completed = 0;
      const byKey = new Map(canaries.map((c) => [c.key, c]));
      const stopListening = obs.onPhase((key, change) => {
        const c = byKey.get(key);
        if (
          !c ||
          Date.now() >= soakEnd ||
          !(change.phase === 'Succeeded' || change.phase === 'Failed')
        )
          return;
        const view = releaseView(
          obs.timelines.get(key),
          sent.get(key)?.at(-1) ?? Infinity,
          intervalMs,
        );
        if (!view.result) return;
        completed += 1;
        const p = update(c).catch((err: unknown) => {
          notes.push(`Update of ${key} failed: ${String(err)}`);
        });
        pending.add(p);
        void p.finally(() => pending.delete(p));
      });
      await forEachLimit(canaries, 16, update);
      while (Date.now() < soakEnd) {
        alive();
        await sleep(Math.min(5_000, soakEnd - Date.now()));
      }
      stopListening();
      await Promise.allSettled([...pending]);
      releaseEnd = Date.now();
      for (const c of canaries) {
        const times = sent.get(c.key) ?? [];
        times.forEach((t, i) =>
          views.push(
            releaseView(obs.timelines.get(c.key), t, intervalMs, times[i + 1] ?? releaseEnd),
          ),
        );
      }
      const mem = memory.samples.filter((s) => s.at >= releaseStart);
      result.soak = {
        seconds: round((releaseEnd - releaseStart) / 1000, 0),
        releasesCompleted: completed,
        rssMiB: trendOf(mem.map((s) => ({ at: s.at, value: s.rssMiB }))),
      };
      const heapMiB = (heap?.samples ?? [])
        .filter((s) => s.at >= releaseStart && s.value > 0)
        .map((s) => ({ at: s.at, value: s.value / 2 ** 20 }));
      if (heapMiB.length > 0) result.soak.liveHeapMiB = trendOf(heapMiB);
    }
    checkpoints.released = await cpuCheckpoint(ctrl.pid, components);
    windows.push({ name: 'release', from: releaseStart, to: releaseEnd + 1 });
    const promAfter = await scrape(`${env.prometheus.url}/metrics`);
    const ctrlAfter = metricsUrl ? await scrape(metricsUrl) : undefined;
    const releaseSeconds = (releaseEnd - releaseStart) / 1000;
    const finalPhases = phases();
    const ended = views.filter((v) => v.result);
    result.release = {
      ...(ended.length === views.length ? { seconds: round(releaseSeconds, 1) } : {}),
      succeeded: views.filter((v) => v.result === 'Succeeded').length,
      failed: views.filter((v) => v.result === 'Failed').length,
      phases: phaseCounts(finalPhases),
      boundSeconds: (options.soakMs ?? bounds.releaseMs) / 1000,
      detectionMs: summarize(
        views.flatMap((v) => (v.detectionMs !== undefined ? [v.detectionMs] : [])),
        0,
      ),
      latenessMs: summarize(
        views.flatMap((v) => v.latenessMs),
        0,
      ),
      weightChanges: views.reduce((a, v) => a + v.weightChanges, 0),
    };
    result.prometheus = histogramStats(
      promBefore,
      promAfter,
      'prometheus_http_request_duration_seconds',
      { handler: '/api/v1/query' },
      releaseSeconds,
    );
    const clientDelta = counterDelta(
      ctrlBefore,
      ctrlAfter,
      'weir_kube_requests_total',
      (l) => `${l.verb} ${l.resource}`,
    );
    if (clientDelta) result.clientRequests = { release: clientDelta };
    const q = histogramStats(
      ctrlBefore,
      ctrlAfter,
      'weir_metric_query_duration_seconds',
      {},
      releaseSeconds,
    );
    if (q && q.queries > 0) result.controllerQueries = q;
    const rec = histogramStats(
      ctrlBefore,
      ctrlAfter,
      'weir_reconcile_duration_seconds',
      {},
      releaseSeconds,
    );
    if (rec && rec.queries > 0) result.reconciles = rec;
    // A soak ends with releases in flight: it is complete when it ran its time and released.
    result.completed =
      initialized !== undefined &&
      (result.soak
        ? result.soak.releasesCompleted > 0
        : ended.length === views.length && views.length > 0);

    if (heapDir) {
      ctx.log(`[${n}] writing a heap snapshot to ${heapDir}`);
      ctrl.signal('SIGUSR2');
      result.heapSnapshot = await waitForSnapshot(heapDir, 180_000);
    }

    ctx.log(`[${n}] stopping the controller`);
    await ctrl.stop();
    result.controller.exit = describeExit(ctrl);
    memory.stop();
    lag?.stop();
    heap?.stop();
    const mem: MemorySample[] = memory.samples;
    result.memory = {
      rssMiB: {
        max: round(Math.max(...mem.map((s) => s.rssMiB)), 1),
        final: round(mem.at(-1)?.rssMiB ?? NaN, 1),
      },
      treeRssMiB: {
        max: round(Math.max(...mem.map((s) => s.treeRssMiB)), 1),
        final: round(mem.at(-1)?.treeRssMiB ?? NaN, 1),
      },
      bootstrappedRssMiB: round(
        mem.filter((s) => s.at <= checkpoints.bootstrapped!.at).at(-1)?.rssMiB ?? NaN,
        1,
      ),
      samples: mem.map((s) => [round((s.at - bootstrapStart) / 1000, 0), round(s.rssMiB, 1)]),
    };
    const mib = (name: string) =>
      round((ctrlAfter?.find((x) => x.name === name)?.value ?? NaN) / 2 ** 20, 1);
    if (ctrlAfter?.some((x) => x.name === 'weir_nodejs_heap_size_used_bytes'))
      result.memory.node = {
        heapUsedMiB: mib('weir_nodejs_heap_size_used_bytes'),
        liveHeapMiB: mib('weir_nodejs_heap_live_bytes'),
        heapTotalMiB: mib('weir_nodejs_heap_size_total_bytes'),
        externalMiB: mib('weir_nodejs_external_memory_bytes'),
      };
    result.cpuSeconds = {
      bootstrap: cpuBetween(checkpoints.start, checkpoints.bootstrapped),
      idle: cpuBetween(checkpoints.bootstrapped, checkpoints.idle),
      release: cpuBetween(checkpoints.idle, checkpoints.released),
    };
    const lagValues = (lag?.samples ?? [])
      .filter((s) => s.at >= releaseStart)
      .map((s) => s.value * 1000);
    if (lagValues.length > 0)
      result.eventLoopLagP99Ms = {
        max: round(Math.max(...lagValues), 1),
        median: round(percentile(lagValues, 0.5), 1),
        samples: lagValues.length,
      };
    if (profDir) result.profiles = await summarizeProfiles(profDir);

    if (env.cluster.auditLogPath) {
      // The log backend is batched: give it a moment to write the last events.
      await sleep(3_000);
      const counts = await countAuditLog(env.cluster.auditLogPath, windows, controllerUser);
      const byWindow: NonNullable<SizeResult['apiRequests']>['windows'] = {};
      for (const w of windows) {
        const c = counts.get(w.name)!;
        const seconds = (w.to - w.from) / 1000;
        byWindow[w.name] = {
          ...c,
          seconds: round(seconds, 1),
          perSecond: round(c.total / seconds, 1),
        };
      }
      const release = counts.get('release')!;
      const steps = Math.max(1, result.release.weightChanges);
      const releases = Math.max(1, views.length);
      const per = (d: number) =>
        Object.fromEntries(Object.entries(release.byVerb).map(([v, c]) => [v, round(c / d, 2)]));
      result.apiRequests = {
        source: 'kube-apiserver audit log (Metadata level, user ' + controllerUser + ')',
        user: controllerUser,
        windows: byWindow,
        perRelease: per(releases),
        perWeightStep: per(steps),
        writesPerWeightStep: round(
          writes.reduce((a, v) => a + (release.byVerb[v] ?? 0), 0) / steps,
          2,
        ),
        steadyStep: steadyStepWrites(
          await readWrites(env.cluster.auditLogPath, controllerUser, releaseStart, releaseEnd + 1),
          canaries,
        ),
      };
    }
    return result;
  } finally {
    unregister();
    ctx.log(`[${n}] tearing down`);
    await teardown();
  }
}

function round(v: number, digits: number): number {
  return Number.isFinite(v) ? Number(v.toFixed(digits)) : NaN;
}

function describeExit(c: ControllerProcess): string {
  return c.exit ? (c.exit.signal ? `signal ${c.exit.signal}` : `code ${c.exit.code}`) : 'running';
}

/** Polls `probe` every `everyMs` until it returns a value or `boundMs` passes (then undefined). */
async function waitUntil<T>(
  boundMs: number,
  everyMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    let v: T | undefined;
    try {
      v = await probe();
    } catch (err) {
      // The controller exiting is final; anything else (a list that timed out) is retried.
      if ((err as Error).message.startsWith('The controller exited')) throw err;
    }
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

/** Waits for a .heapsnapshot file in `dir` whose size stops changing. */
async function waitForSnapshot(dir: string, boundMs: number): Promise<string | undefined> {
  let last = -1;
  return waitUntil(boundMs, 2_000, async () => {
    const f = (await readdir(dir)).find((x) => x.endsWith('.heapsnapshot'));
    if (!f) return undefined;
    const size = (await stat(path.join(dir, f))).size;
    if (size > 0 && size === last) return path.join(dir, f);
    last = size;
    return undefined;
  });
}

/** How a memory figure moved over a soak. */
export interface MemoryTrend {
  first: number;
  last: number;
  max: number;
  slopePerHour: number;
  /** The slope over the second half only: a cache that fills and then holds shows up as flat here. */
  secondHalfSlopePerHour: number;
  samples: number;
}

function trendOf(samples: readonly { at: number; value: number }[]): MemoryTrend {
  const mid = samples.length > 0 ? (samples[0]!.at + samples.at(-1)!.at) / 2 : 0;
  return {
    first: round(samples[0]?.value ?? NaN, 1),
    last: round(samples.at(-1)?.value ?? NaN, 1),
    max: round(Math.max(...samples.map((s) => s.value)), 1),
    slopePerHour: round(slopePerHour(samples), 2),
    secondHalfSlopePerHour: round(slopePerHour(samples.filter((s) => s.at >= mid)), 2),
    samples: samples.length,
  };
}
