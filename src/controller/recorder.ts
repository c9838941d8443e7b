import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { canaryPhases } from '../api/canary-schema.js';
import { apiVersion } from '../api/crds.js';
import type { Canary, CanaryRun } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { canaryLabel, ownerReference } from '../workloads/generated.js';
import type { DeliveryPlan, RunInfo } from '../notifications/delivery-plan.js';
import type { Delivery } from '../notifications/delivery-queue.js';
import { stripped, type RecordEntry } from '../contracts/records.js';
import { releaseResult, warningReasons } from '../machine/reasons.js';

/** How many CanaryRuns are kept per Canary. */
export const runsKept = 10;
/** Transitions kept in one CanaryRun; the oldest are dropped past this. */
export const transitionsKept = 500;
/** Outbox entries that may wait in the Canary status before their run is written anyway. */
export const runBatch = 10;

/** Options for {@link Recorder}. */
export interface RecorderOptions {
  kube: KubeAccess;
  logger: Logger;
  registry: Registry;
  /** The CanaryRuns of a Canary, from the informer cache (ended runs may be trimmed: see `trimEndedRun`). */
  runsOf: (namespace: string, canary: string) => CanaryRun[];
  /** Reads one CanaryRun from the API server: only for the rare append to a trimmed run. */
  readRun?: (namespace: string, name: string) => Promise<CanaryRun | undefined>;
  /** Notifications and event webhooks: planned per transition, sent once it is recorded. */
  deliveries?: {
    /** Reads what planning needs that no cache holds (the providers' Secrets). */
    prepare?(canary: Canary): Promise<void>;
    plan(canary: Canary, entry: RecordEntry, run: RunInfo): DeliveryPlan;
    send(deliveries: Delivery[]): void;
  };
}

/**
 * Turns each recorded transition into a CanaryRun entry, a Kubernetes Event, a
 * log line and metric changes. Called after the Canary status write has landed.
 */
export class Recorder {
  private readonly transitions: Counter<'reason'>;
  private readonly results: Counter<'result'>;
  private readonly duration: Histogram<'result'>;
  private readonly weight: Gauge<'namespace' | 'name'>;
  private readonly phase: Gauge<'namespace' | 'name'>;
  private readonly metricValue: Gauge<'namespace' | 'name' | 'metric'>;
  private readonly metricFailed: Gauge<'namespace' | 'name' | 'metric'>;
  /** Metric names with a gauge series, per Canary, so they can be removed with it. */
  private readonly metricNames = new Map<string, Set<string>>();
  /** Highest seq known to be in a CanaryRun, per Canary (memory; the runs cache covers restarts). */
  private readonly flushed = new Map<string, number>();
  /** Highest seq whose Event, log line and metrics were emitted, per Canary. */
  private readonly announced = new Map<string, number>();
  /**
   * The transitions last written to a run, per Canary, newer than the cache may be.
   * Only the newest run is held (a Canary appends to no other); the entry goes with its Canary.
   */
  private readonly written = new Map<
    string,
    { run: string; transitions: { seq: number }[]; resourceVersion: string | undefined }
  >();
  /** Images and start of the run this process last created, per Canary, until the cache has it. */
  private readonly started = new Map<
    string,
    { run: string; images: RunInfo['images']; startTime: string }
  >();

  constructor(private readonly options: RecorderOptions) {
    const registers = [options.registry];
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
    this.duration = new Histogram({
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
    this.phase = new Gauge({
      name: 'weir_canary_phase',
      help: `Current phase as its index in: ${canaryPhases.join(', ')}.`,
      labelNames: ['namespace', 'name'],
      registers,
    });
  }

  /** Exports the last measured value of each metric (NaN when there was none) and whether it failed. */
  metricValues(canary: Canary, metrics: NonNullable<RecordEntry['metrics']>): void {
    const namespace = canary.metadata.namespace!;
    const name = canary.metadata.name!;
    const names = this.metricNames.get(`${namespace}/${name}`) ?? new Set<string>();
    for (const m of metrics) {
      const labels = { namespace, name, metric: m.name };
      this.metricValue.set(labels, m.value ?? NaN);
      this.metricFailed.set(labels, m.passed ? 0 : 1);
      names.add(m.name);
    }
    this.metricNames.set(`${namespace}/${name}`, names);
  }

  /** Highest seq already recorded for a Canary, so the outbox can drop it. */
  flushedSeq(canary: Canary): number {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const known = this.flushed.get(key);
    if (known !== undefined) return known;
    let max = 0;
    for (const run of this.options.runsOf(canary.metadata.namespace!, canary.metadata.name!)) {
      for (const t of run.status?.transitions ?? [])
        max = Math.max(max, (t as { seq?: number }).seq ?? 0);
    }
    return max;
  }

  /** Gauges that follow the status even when nothing is recorded. */
  observe(canary: Canary, phase: string, weight: number): void {
    const labels = { namespace: canary.metadata.namespace!, name: canary.metadata.name! };
    this.weight.set(labels, weight);
    this.phase.set(labels, canaryPhases.indexOf(phase as never));
  }

  forget(namespace: string, name: string): void {
    this.flushed.delete(`${namespace}/${name}`);
    this.announced.delete(`${namespace}/${name}`);
    this.written.delete(`${namespace}/${name}`);
    this.started.delete(`${namespace}/${name}`);
    this.weight.remove({ namespace, name });
    this.phase.remove({ namespace, name });
    for (const metric of this.metricNames.get(`${namespace}/${name}`) ?? []) {
      this.metricValue.remove({ namespace, name, metric });
      this.metricFailed.remove({ namespace, name, metric });
    }
    this.metricNames.delete(`${namespace}/${name}`);
  }

  /**
   * Records the outbox entries not yet in a CanaryRun. Each entry becomes an Event,
   * a log line and metric changes as soon as its status write has landed. The run
   * itself is written when an entry matters on its own (a phase change, a new run,
   * a warning such as a failed check, a result, a notification to claim) or `runBatch` entries are waiting: until
   * then they wait in the Canary status, which is just as durable, so a weight
   * step costs three writes (route, status, Event) instead of four.
   */
  async flush(
    canary: Canary,
    outbox: RecordEntry[],
    images: { from: string[]; to: string[] },
  ): Promise<void> {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const done = this.flushedSeq(canary);
    const pending = outbox.filter((e) => e.seq > done).sort((a, b) => a.seq - b.seq);
    if (pending.length === 0) return;
    const announced = Math.max(this.announced.get(key) ?? 0, done);
    for (const entry of pending) if (entry.seq > announced) await this.announce(canary, entry);
    this.announced.set(key, pending.at(-1)!.seq);

    if (pending.some((entry) => entry.run)) await this.options.deliveries?.prepare?.(canary);
    const planned = pending.map((entry) => ({
      entry,
      plan: entry.run
        ? this.options.deliveries?.plan(canary, entry, this.runInfo(canary, entry, images))
        : undefined,
    }));
    const urgent = planned.some(
      ({ entry, plan }) =>
        entry.from !== entry.to ||
        entry.event === 'new-revision' ||
        warningReasons.has(entry.reason) ||
        releaseResult(entry) !== undefined ||
        (plan?.deliveries.length ?? 0) > 0,
    );
    if (!urgent && pending.length < runBatch) return;
    for (const run of new Set(pending.flatMap((e) => (e.run ? [e.run] : [])))) {
      const own = planned.filter(({ entry }) => entry.run === run);
      try {
        await this.appendToRun(canary, run, own, images);
      } catch (err) {
        if ((err as { code?: number }).code !== 422) throw err;
        // The run refused the entries as they are (a schema limit): record them without
        // what the checks measured rather than block every later run of this Canary.
        this.options.logger.error(
          { err, canary: key, run },
          'CanaryRun refused the transitions; recording them without their measurements',
        );
        await this.appendToRun(
          canary,
          run,
          own.map((p) => ({ ...p, entry: stripped(p.entry) })),
          images,
        ).catch((again: unknown) => {
          if ((again as { code?: number }).code !== 422) throw again;
          this.options.logger.error(
            { err: again, canary: key, run },
            'CanaryRun refused the transitions again; they are in the Events and the log only',
          );
        });
      }
    }
    this.flushed.set(key, pending.at(-1)!.seq);
  }

  /** The Event, log line and metrics of one transition. */
  private async announce(canary: Canary, entry: RecordEntry): Promise<void> {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    await this.emitEvent(canary, entry);
    this.options.logger.info(
      {
        canary: key,
        revision: entry.revision,
        from: entry.from,
        to: entry.to,
        cause: entry.event,
        reason: entry.reason,
        weight: entry.weight,
      },
      entry.message,
    );
    this.transitions.inc({ reason: entry.reason });
    const result = releaseResult(entry);
    if (result && entry.to !== entry.from) {
      this.results.inc({ result });
      const run =
        entry.run &&
        this.options
          .runsOf(canary.metadata.namespace!, canary.metadata.name!)
          .find((r) => r.metadata.name === entry.run);
      if (run)
        this.duration.observe(
          { result },
          (Date.parse(entry.time) - Date.parse(run.spec.startTime)) / 1000,
        );
    }
  }

  /** Name, images and start of an entry's run, for notifications. */
  private runInfo(
    canary: Canary,
    entry: RecordEntry,
    images: { from: string[]; to: string[] },
  ): RunInfo {
    const ns = canary.metadata.namespace!;
    const name = entry.run!;
    const cached = this.options
      .runsOf(ns, canary.metadata.name!)
      .find((r) => r.metadata.name === name);
    if (cached)
      return {
        name,
        images: { from: cached.spec.images?.from ?? [], to: cached.spec.images?.to ?? [] },
        startTime: cached.spec.startTime,
      };
    const started = this.started.get(`${ns}/${canary.metadata.name}`);
    if (started?.run === name)
      return { name, images: started.images, startTime: started.startTime };
    return { name, images, startTime: entry.time };
  }

  /** Appends entries to their run in one status write, creating the run first if it is new. */
  private async appendToRun(
    canary: Canary,
    name: string,
    planned: { entry: RecordEntry; plan: DeliveryPlan | undefined }[],
    images: { from: string[]; to: string[] },
    readBack = false,
  ): Promise<void> {
    const ns = canary.metadata.namespace!;
    const canaryKey = `${ns}/${canary.metadata.name}`;
    const cached = this.options
      .runsOf(ns, canary.metadata.name!)
      .find((r) => r.metadata.name === name);
    const mine = readBack ? undefined : this.written.get(canaryKey);
    let existing = (
      mine?.run === name ? mine.transitions : (cached?.status?.transitions ?? [])
    ) as ({
      seq: number;
    } & Record<string, unknown>)[];
    // The write below is conditional on the version these transitions were read at.
    let base = mine?.run === name ? mine.resourceVersion : cached?.metadata.resourceVersion;
    let fresh = planned.filter(({ entry }) => !existing.some((t) => t.seq === entry.seq));
    if (fresh.length === 0) return;
    if (readBack || (mine?.run !== name && cached && trimmed.has(cached))) {
      // The cache keeps only the last transition of an ended run (or the run changed
      // since this process last saw it): appending needs the whole of it.
      const read = await this.options.readRun?.(ns, name);
      if (!read) throw new Error(`CanaryRun ${ns}/${name} could not be read back to append to it`);
      existing = (read.status?.transitions ?? []) as typeof existing;
      base = read.metadata.resourceVersion;
      // The whole history may already hold some of them (written before a restart).
      fresh = planned.filter(({ entry }) => !existing.some((t) => t.seq === entry.seq));
      if (fresh.length === 0) return;
    }
    if (!cached && mine?.run !== name) {
      const first = fresh[0]!.entry;
      const run: CanaryRun = {
        apiVersion,
        kind: 'CanaryRun',
        metadata: {
          name,
          namespace: ns,
          labels: { [canaryLabel]: canary.metadata.name! },
          ownerReferences: [{ ...ownerReference(canary), controller: false }],
        },
        spec: {
          canary: canary.metadata.name!,
          revision: first.revision ?? '',
          // The schema's limits: 32 images of 512 characters each way.
          images: {
            from: images.from.slice(0, 32).map((i) => i.slice(0, 512)),
            to: images.to.slice(0, 32).map((i) => i.slice(0, 512)),
          },
          startTime: first.time,
        },
      };
      base = (await this.options.kube.apply(run as unknown as k8s.KubernetesObject))?.metadata
        ?.resourceVersion;
      this.started.set(canaryKey, { run: name, images, startTime: first.time });
      await this.prune(canary, name, first.time);
    }
    const deliveries: Delivery[] = [];
    const added = fresh.map(({ entry, plan }) => {
      for (const problem of plan?.problems ?? [])
        this.options.logger.warn(
          { canary: `${ns}/${canary.metadata.name}`, run: name },
          `Cannot notify: ${problem}`,
        );
      // The deliveries are claimed in the same write that records the transition: a
      // transition is recorded once (by seq), so each message is sent at most once,
      // across restarts too.
      if (plan?.deliveries.length) deliveries.push(...plan.deliveries);
      return {
        seq: entry.seq,
        time: entry.time,
        from: entry.from,
        to: entry.to,
        event: entry.event,
        reason: entry.reason,
        message: entry.message.slice(0, 2048),
        weight: entry.weight,
        failedChecks: entry.failedChecks,
        ...(entry.metrics ? { metrics: entry.metrics } : {}),
        ...(entry.webhooks ? { webhooks: entry.webhooks } : {}),
        ...(plan?.deliveries.length ? { deliveries: plan.deliveries.map((d) => d.key) } : {}),
      };
    });
    const transitions = withinBudget([...existing, ...added].slice(-transitionsKept));
    const ended = fresh.map(({ entry }) => entry).findLast((e) => releaseResult(e) !== undefined);
    let resourceVersion: string | undefined;
    try {
      resourceVersion = await this.options.kube.patchStatus(
        'canaryruns',
        { namespace: ns, name },
        {
          transitions,
          ...(ended ? { result: releaseResult(ended), endTime: ended.time } : {}),
        },
        base,
      );
    } catch (err) {
      // The run changed since it was read (a write a stalled API server delayed, or
      // another replica's): read it again and append to what it holds now.
      if ((err as { code?: number }).code === 409 && !readBack)
        return this.appendToRun(canary, name, planned, images, true);
      throw err;
    }
    this.written.set(canaryKey, { run: name, transitions, resourceVersion });
    if (deliveries.length) this.options.deliveries!.send(deliveries);
  }

  /** Keeps the newest runs of a Canary; a superseded run gets its result. */
  private async prune(canary: Canary, newest: string, now: string): Promise<void> {
    const runs = this.options
      .runsOf(canary.metadata.namespace!, canary.metadata.name!)
      .filter((r) => r.metadata.name !== newest)
      .sort((a, b) => (a.spec.startTime < b.spec.startTime ? 1 : -1));
    // A run this process just ended may still look open in the cache: its result stands.
    const mine = this.written.get(`${canary.metadata.namespace}/${canary.metadata.name}`);
    const endedHere =
      mine && mine.transitions.some((t) => releaseResult(t as unknown as RecordEntry) !== undefined)
        ? mine.run
        : undefined;
    for (const open of runs.filter((r) => !r.status?.result && r.metadata.name !== endedHere)) {
      await this.options.kube.patchStatus(
        'canaryruns',
        { namespace: open.metadata.namespace!, name: open.metadata.name! },
        {
          result: 'Superseded',
          endTime: now,
        },
      );
    }
    for (const old of runs.slice(runsKept - 1)) {
      await this.options.kube.deleteObject({
        apiVersion,
        kind: 'CanaryRun',
        metadata: { name: old.metadata.name!, namespace: old.metadata.namespace! },
      });
    }
  }

  private async emitEvent(canary: Canary, entry: RecordEntry): Promise<void> {
    await this.event(canary, {
      id: `${entry.seq.toString(16)}${Date.parse(entry.time).toString(16)}`,
      reason: entry.reason,
      message: entry.message,
      time: entry.time,
      warning: warningReasons.has(entry.reason),
    });
  }

  /** Creates a Kubernetes Event on a Canary; a failure is logged, never thrown. */
  async event(
    canary: Canary,
    e: { id: string; reason: string; message: string; time: string; warning: boolean },
  ): Promise<void> {
    try {
      await this.options.kube.createEvent({
        metadata: {
          name: `${canary.metadata.name}.${e.id}`,
          namespace: canary.metadata.namespace!,
        },
        involvedObject: {
          apiVersion,
          kind: 'Canary',
          name: canary.metadata.name!,
          namespace: canary.metadata.namespace!,
          uid: canary.metadata.uid!,
        },
        reason: e.reason,
        message: e.message.slice(0, 1024),
        type: e.warning ? 'Warning' : 'Normal',
        firstTimestamp: new Date(e.time),
        lastTimestamp: new Date(e.time),
        count: 1,
        source: { component: 'weir' },
        reportingComponent: 'weir.dev/controller',
        reportingInstance: 'weir',
      });
    } catch (err) {
      // A restarted controller announces its pending outbox again: the Event is already there.
      if ((err as { code?: number }).code === 409) return;
      // Events are a courtesy with a one-hour lifetime; the CanaryRun and the status are the record.
      this.options.logger.warn(
        { err, canary: `${canary.metadata.namespace}/${canary.metadata.name}` },
        'Could not create Event',
      );
    }
  }
}

/** Bytes of transitions one CanaryRun holds at most: the oldest go past it (etcd objects max 1.5 MiB). */
export const runBudgetBytes = 512 * 1024;

/** The newest transitions that fit in {@link runBudgetBytes}. */
function withinBudget<T>(transitions: T[]): T[] {
  let size = JSON.stringify(transitions).length;
  let from = 0;
  while (size > runBudgetBytes && from < transitions.length - 1) {
    size -= JSON.stringify(transitions[from]).length + 1;
    from += 1;
  }
  return from === 0 ? transitions : transitions.slice(from);
}

/** Runs whose cached copy was trimmed by `trimEndedRun`. */
const trimmed = new WeakSet<CanaryRun>();

/**
 * Trims an ended CanaryRun in the informer cache to what the recorder reads of
 * it: name, labels, spec, result and the seq of its last transition. Its history
 * is never read again, and with ten runs kept per Canary the histories would be
 * most of the cache. (An append to an ended run reads the run back first.)
 */
export function trimEndedRun(run: CanaryRun): void {
  const status = run.status;
  if (!status?.result) return;
  const last = status.transitions?.at(-1) as { seq?: number } | undefined;
  const { name, namespace, uid, resourceVersion, labels } = run.metadata;
  run.metadata = { name, namespace, uid, resourceVersion, labels } as CanaryRun['metadata'];
  run.status = {
    result: status.result,
    ...(status.endTime ? { endTime: status.endTime } : {}),
    transitions: (last?.seq !== undefined ? [{ seq: last.seq }] : []) as NonNullable<
      CanaryRun['status']
    >['transitions'],
  };
  trimmed.add(run);
}
