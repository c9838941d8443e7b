import type { CanaryPhase } from '../api/canary-schema.js';
import type { Effect, ReleaseContext } from '../machine/canary-machine.js';
import { stripped, withinLimits, type RecordEntry } from '../contracts/records.js';
import type { StatusMachine } from './status.js';

/** A `record` effect the machine gave, with the phases around it and what the checks measured. */
export interface Recorded {
  effect: Extract<Effect, { type: 'record' }>;
  from: CanaryPhase;
  to: CanaryPhase;
  metrics?: RecordEntry['metrics'];
  webhooks?: RecordEntry['webhooks'];
}

/** The outbox after a decision: entries still to record, and the counters that go with them. */
export interface Outbox {
  entries: RecordEntry[];
  seq: number;
  run: string | undefined;
}

/**
 * Gives each recorded transition the next seq (which makes recording exactly-once
 * across restarts) and drops the entries already in their CanaryRun. A new
 * revision opens a new run, named after the Canary and the entry's seq.
 */
export function fillOutbox(input: {
  stored: StatusMachine | undefined;
  recorded: Recorded[];
  /** Highest seq known to be in a CanaryRun. */
  flushed: number;
  canary: string;
  revision: string;
  context: ReleaseContext;
  nowIso: string;
}): Outbox {
  const { stored, context } = input;
  let seq = stored?.seq ?? 0;
  let run = stored?.run;
  const entries = (stored?.outbox ?? []).filter((e) => e.seq > input.flushed);
  for (const r of input.recorded) {
    seq += 1;
    if (r.effect.event === 'new-revision') run = `${input.canary}-${seq}`.slice(0, 253);
    entries.push(
      withinLimits({
        seq,
        time: input.nowIso,
        from: r.from,
        to: r.to,
        event: r.effect.event,
        reason: r.effect.reason,
        message: r.effect.message,
        weight: context.weight,
        failedChecks: context.failedChecks,
        ...(context.inconclusiveChecks ? { inconclusiveChecks: context.inconclusiveChecks } : {}),
        revision: context.revision ?? input.revision,
        ...(run && r.to !== 'Initialized' ? { run } : {}),
        ...(r.metrics ? { metrics: r.metrics } : {}),
        ...(r.webhooks ? { webhooks: r.webhooks } : {}),
      }),
    );
  }
  return { entries: capped(entries), seq, run };
}

/** Most entries the outbox holds: more wait only while their run cannot be written. */
export const outboxMax = 50;

/**
 * Keeps the outbox within {@link outboxMax} entries, and so the Canary status small,
 * however long the runs cannot be written: the oldest entries lose what the checks
 * measured first, then go (the status and Events still tell the story).
 */
function capped(entries: RecordEntry[]): RecordEntry[] {
  if (entries.length <= outboxMax) return entries;
  return entries.slice(-outboxMax).map((e, i) => (i < outboxMax / 2 ? stripped(e) : e));
}
