import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { canaryPhases, type CanaryPhase } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { MetricResult, RecordEntry } from '../contracts/records.js';
import { releaseResult } from '../machine/reasons.js';

/** The objects an informer caches, counted for `weir_informer_cached_objects`. */
export interface CacheSizes {
  canaries(): number;
  runs(): number;
  deployments(): number;
}

/**
 * The controller's own metrics, in one place: the work queue and reconciles, the
 * informer caches, and the Flagger-style gauges and counters of each Canary. The
 * API request metrics live with the API client (src/kube/kube-config.ts), the
 * delivery metrics with the delivery queue, and the process metrics in app.ts.
 */
export class Telemetry {
  private readonly queueDepth: Gauge;
  private readonly reconcileDuration: Histogram;
  private readonly reconcileErrors: Counter;
  private readonly transitions: Counter<'reason'>;
  private readonly results: Counter<'result'>;
  private readonly releaseDuration: Histogram<'result'>;
  private readonly weight: Gauge<'namespace' | 'name'>;
  private readonly phase: Gauge<'namespace' | 'name'>;
  private readonly metricValue: Gauge<'namespace' | 'name' | 'metric'>;
  private readonly metricFailed: Gauge<'namespace' | 'name' | 'metric'>;
  private readonly metricInconclusive: Gauge<'namespace' | 'name' | 'metric'>;
  /** Metric names with a gauge series, per Canary, so they go with it. */
  private readonly metricNames = new Map<string, Set<string>>();

  constructor(private readonly registry: Registry) {
    const registers = [registry];
    this.queueDepth = new Gauge({
      name: 'weir_queue_depth',
      help: 'Canary keys waiting in the work queue.',
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'weir_reconcile_duration_seconds',
      help: 'Time to reconcile one Canary.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'weir_reconcile_errors_total',
      help: 'Reconciles that failed and were retried.',
      registers,
    });
    this.transitions = new Counter({
      name: 'weir_canary_transitions_total',
      help: 'Recorded release transitions, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.results = new Counter({
      name: 'weir_canary_releases_total',
      help: 'Finished releases, by result.',
      labelNames: ['result'],
      registers,
    });
    this.releaseDuration = new Histogram({
      name: 'weir_canary_release_duration_seconds',
      help: 'Time from a new revision to its promotion or rollback.',
      labelNames: ['result'],
      buckets: [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers,
    });
    this.weight = new Gauge({
      name: 'weir_canary_weight',
      help: 'Current canary traffic weight.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.metricValue = new Gauge({
      name: 'weir_canary_metric_value',
      help: 'Last measured value of each analysis metric (NaN when there was no data).',
      labelNames: ['namespace', 'name', 'metric'],
      registers,
    });
    this.metricFailed = new Gauge({
      name: 'weir_canary_metric_failed',
      help: '1 when the last check of the metric failed, else 0.',
      labelNames: ['namespace', 'name', 'metric'],
      registers,
    });
    this.metricInconclusive = new Gauge({
      name: 'weir_canary_metric_inconclusive',
      help: '1 when the last check of the metric could not be judged (provider error, no data for the judge, too few samples), else 0.',
      labelNames: ['namespace', 'name', 'metric'],
      registers,
    });
    this.phase = new Gauge({
      name: 'weir_canary_phase',
      help: `Current phase as its index in: ${canaryPhases.join(', ')}.`,
      labelNames: ['namespace', 'name'],
      registers,
    });
  }

  /** Exports how many objects each informer cache holds, read at every scrape. */
  cacheSizes(sizes: CacheSizes): void {
    new Gauge({
      name: 'weir_informer_cached_objects',
      help: 'Objects held in each informer cache, by kind.',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        this.set({ kind: 'Canary' }, sizes.canaries());
        this.set({ kind: 'CanaryRun' }, sizes.runs());
        this.set({ kind: 'Deployment' }, sizes.deployments());
      },
    });
  }

  queued(depth: number): void {
    this.queueDepth.set(depth);
  }

  /** Times one reconcile; call the result when it ends, with whether it failed. */
  reconcileStarted(): (failed: boolean) => void {
    const end = this.reconcileDuration.startTimer();
    return (failed) => {
      if (failed) this.reconcileErrors.inc();
      end();
    };
  }

  /** Gauges that follow the status even when nothing is recorded. */
  canaryAt(canary: Canary, phase: CanaryPhase, weight: number): void {
    const labels = { namespace: canary.metadata.namespace!, name: canary.metadata.name! };
    this.weight.set(labels, weight);
    this.phase.set(labels, canaryPhases.indexOf(phase));
  }

  /** Exports the last measured value of each metric (NaN when there was none) and whether it failed. */
  metricValues(canary: Canary, metrics: MetricResult[]): void {
    const namespace = canary.metadata.namespace!;
    const name = canary.metadata.name!;
    const names = this.metricNames.get(`${namespace}/${name}`) ?? new Set<string>();
    for (const m of metrics) {
      const labels = { namespace, name, metric: m.name };
      this.metricValue.set(labels, m.value ?? NaN);
      // An inconclusive check did not fail: the canary was not judged (ADR 0017).
      this.metricFailed.set(labels, m.passed || m.inconclusive ? 0 : 1);
      this.metricInconclusive.set(labels, m.inconclusive ? 1 : 0);
      names.add(m.name);
    }
    this.metricNames.set(`${namespace}/${name}`, names);
  }

  /** Counts a recorded transition; one that ends a release counts its result and duration. */
  transition(entry: RecordEntry, runStart: string | undefined): void {
    this.transitions.inc({ reason: entry.reason });
    const result = releaseResult(entry);
    if (!result || entry.to === entry.from) return;
    this.results.inc({ result });
    if (runStart)
      this.releaseDuration.observe(
        { result },
        (Date.parse(entry.time) - Date.parse(runStart)) / 1000,
      );
  }

  /** Drops a deleted Canary's series. */
  forget(namespace: string, name: string): void {
    this.weight.remove({ namespace, name });
    this.phase.remove({ namespace, name });
    for (const metric of this.metricNames.get(`${namespace}/${name}`) ?? []) {
      this.metricValue.remove({ namespace, name, metric });
      this.metricFailed.remove({ namespace, name, metric });
      this.metricInconclusive.remove({ namespace, name, metric });
    }
    this.metricNames.delete(`${namespace}/${name}`);
  }
}
