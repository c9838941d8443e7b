import type { Logger } from 'pino';
import type { Canary, CanaryRun } from '../api/types.js';
import { stripped, type RecordEntry } from '../contracts/records.js';
import type { KubeAccess } from '../kube/access.js';
import { releaseResult, warningReasons } from '../machine/reasons.js';
import { CanaryRunWriter, type Images, type RunMemory } from './canary-runs.js';
import { planDeliveries, type Dispatch, type Planned } from './dispatch.js';
import { EventWriter, type CanaryEvent } from './events.js';
import type { Telemetry } from './telemetry.js';

export { runBudgetBytes, runsKept, transitionsKept, trimEndedRun } from './canary-runs.js';

/** Outbox entries that may wait in the Canary status before their run is written anyway. */
export const runBatch = 10;

/** Options for {@link Recorder}. */
export interface RecorderOptions {
  kube: KubeAccess;
  logger: Logger;
  telemetry: Telemetry;
  /** The CanaryRuns of a Canary, from the informer cache (ended runs may be trimmed: see `trimEndedRun`). */
  runsOf: (namespace: string, canary: string) => CanaryRun[];
  /** Reads one CanaryRun from the API server: only for the rare append to a trimmed run. */
  readRun?: (namespace: string, name: string) => Promise<CanaryRun | undefined>;
  /** Notifications and event webhooks: planned per transition, sent once it is recorded. */
  dispatch?: Dispatch;
}

/** What the recorder remembers of one Canary; the runs cache covers a restart. */
interface RecordMemory extends RunMemory {
  /** Highest seq known to be in a CanaryRun. */
  flushed?: number;
  /** Highest seq whose Event, log line and metrics were emitted. */
  announced?: number;
}

/**
 * Turns each recorded transition into a CanaryRun entry (canary-runs.ts), a
 * Kubernetes Event (events.ts), a log line, metric changes (telemetry.ts) and
 * notifications (dispatch.ts). Called after the Canary status write has landed.
 */
export class Recorder {
  private readonly runs: CanaryRunWriter;
  private readonly events: EventWriter;
  private readonly memories = new Map<string, RecordMemory>();

  constructor(private readonly options: RecorderOptions) {
    this.runs = new CanaryRunWriter({
      kube: options.kube,
      logger: options.logger,
      runsOf: options.runsOf,
      ...(options.readRun ? { readRun: options.readRun } : {}),
      ...(options.dispatch ? { dispatch: options.dispatch } : {}),
    });
    this.events = new EventWriter({ kube: options.kube, logger: options.logger });
  }

  /** Highest seq already recorded for a Canary, so the outbox can drop it. */
  flushedSeq(canary: Canary): number {
    const known = this.memories.get(keyOf(canary))?.flushed;
    if (known !== undefined) return known;
    let max = 0;
    for (const run of this.runs.runsOf(canary)) {
      for (const t of run.status?.transitions ?? [])
        max = Math.max(max, (t as { seq?: number }).seq ?? 0);
    }
    return max;
  }

  /** Forgets a deleted Canary: what was remembered of it, and its metric series. */
  forget(namespace: string, name: string): void {
    this.memories.delete(`${namespace}/${name}`);
    this.options.telemetry.forget(namespace, name);
  }

  /**
   * Records the outbox entries not yet in a CanaryRun. Each entry becomes an Event,
   * a log line and metric changes as soon as its status write has landed. The run
   * itself is written when an entry matters on its own (a phase change, a new run,
   * a warning such as a failed check, a result, a notification to claim) or
   * `runBatch` entries are waiting: until then they wait in the Canary status,
   * which is just as durable, so a weight step costs three writes (route, status,
   * Event) instead of four.
   */
  async flush(canary: Canary, outbox: RecordEntry[], images: Images): Promise<void> {
    const key = keyOf(canary);
    const memory = this.memories.get(key) ?? {};
    this.memories.set(key, memory);
    const done = this.flushedSeq(canary);
    const pending = outbox.filter((e) => e.seq > done).sort((a, b) => a.seq - b.seq);
    if (pending.length === 0) return;
    const announced = Math.max(memory.announced ?? 0, done);
    for (const entry of pending) if (entry.seq > announced) await this.announce(canary, entry);
    memory.announced = pending.at(-1)!.seq;

    const planned = await planDeliveries(this.options.dispatch, canary, pending, (entry) =>
      this.runs.runInfo(canary, memory, entry, images),
    );
    if (!planned.some(urgent) && pending.length < runBatch) return;
    for (const run of new Set(pending.flatMap((e) => (e.run ? [e.run] : [])))) {
      const own = planned.filter(({ entry }) => entry.run === run);
      await this.appendOrStrip(canary, memory, { run, planned: own, images });
    }
    memory.flushed = pending.at(-1)!.seq;
  }

  /** Creates a Kubernetes Event on a Canary; a failure is logged, never thrown. */
  event(canary: Canary, e: CanaryEvent): Promise<void> {
    return this.events.emit(canary, e);
  }

  /**
   * Appends to a run; when the run refuses the entries as they are (a schema
   * limit), records them without what the checks measured rather than block every
   * later run of this Canary.
   */
  private async appendOrStrip(
    canary: Canary,
    memory: RecordMemory,
    append: { run: string; planned: Planned[]; images: Images },
  ): Promise<void> {
    const where = { canary: keyOf(canary), run: append.run };
    try {
      await this.runs.append(canary, memory, append);
    } catch (err) {
      if ((err as { code?: number }).code !== 422) throw err;
      this.options.logger.error(
        { err, ...where },
        'CanaryRun refused the transitions; recording them without their measurements',
      );
      const planned = append.planned.map((p) => ({ ...p, entry: stripped(p.entry) }));
      await this.runs.append(canary, memory, { ...append, planned }).catch((again: unknown) => {
        if ((again as { code?: number }).code !== 422) throw again;
        this.options.logger.error(
          { err: again, ...where },
          'CanaryRun refused the transitions again; they are in the Events and the log only',
        );
      });
    }
  }

  /** The Event, log line and metrics of one transition. */
  private async announce(canary: Canary, entry: RecordEntry): Promise<void> {
    await this.events.emit(canary, {
      id: `${entry.seq.toString(16)}${Date.parse(entry.time).toString(16)}`,
      reason: entry.reason,
      message: entry.message,
      time: entry.time,
      warning: warningReasons.has(entry.reason),
    });
    this.options.logger.info(
      {
        canary: keyOf(canary),
        revision: entry.revision,
        from: entry.from,
        to: entry.to,
        cause: entry.event,
        reason: entry.reason,
        weight: entry.weight,
      },
      entry.message,
    );
    const run = entry.run && this.runs.runsOf(canary).find((r) => r.metadata.name === entry.run);
    this.options.telemetry.transition(entry, run ? run.spec.startTime : undefined);
  }
}

/** Whether an entry needs its run written now rather than batched. */
function urgent({ entry, plan }: Planned): boolean {
  return (
    entry.from !== entry.to ||
    entry.event === 'new-revision' ||
    warningReasons.has(entry.reason) ||
    releaseResult(entry) !== undefined ||
    (plan?.deliveries.length ?? 0) > 0
  );
}

function keyOf(canary: Canary): string {
  return `${canary.metadata.namespace}/${canary.metadata.name}`;
}
