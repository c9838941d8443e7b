import type { Canary } from '../api/types.js';
import type { RecordEntry } from '../contracts/records.js';
import type { DeliveryPlan, RunInfo } from '../notifications/delivery-plan.js';
import type { Delivery } from '../notifications/delivery-queue.js';

/**
 * Notifications and event webhooks of recorded transitions: planned per entry,
 * claimed in the same CanaryRun write that records the entry (so each is sent at
 * most once, across restarts too), and sent once that write has landed.
 */
export interface Dispatch {
  /** Reads what planning needs that no cache holds (the providers' Secrets). */
  prepare?(canary: Canary): Promise<void>;
  plan(canary: Canary, entry: RecordEntry, run: RunInfo): DeliveryPlan;
  send(deliveries: Delivery[]): void;
}

/** An entry with what is to be sent about it. */
export interface Planned {
  entry: RecordEntry;
  plan: DeliveryPlan | undefined;
}

/** Plans the deliveries of the entries that belong to a run. */
export async function planDeliveries(
  dispatch: Dispatch | undefined,
  canary: Canary,
  pending: RecordEntry[],
  runInfo: (entry: RecordEntry) => RunInfo,
): Promise<Planned[]> {
  if (dispatch && pending.some((entry) => entry.run)) await dispatch.prepare?.(canary);
  return pending.map((entry) => ({
    entry,
    plan: entry.run && dispatch ? dispatch.plan(canary, entry, runInfo(entry)) : undefined,
  }));
}

/**
 * What a run write claims: the deliveries to send once it has landed, and the
 * keys each entry records. Problems (an unknown provider, a missing Secret) are
 * reported through `warn`, once per entry.
 */
export function claim(
  planned: Planned[],
  warn: (problem: string) => void,
): { deliveries: Delivery[]; keys: Map<number, string[]> } {
  const deliveries: Delivery[] = [];
  const keys = new Map<number, string[]>();
  for (const { entry, plan } of planned) {
    for (const problem of plan?.problems ?? []) warn(`Cannot notify: ${problem}`);
    if (!plan?.deliveries.length) continue;
    deliveries.push(...plan.deliveries);
    keys.set(
      entry.seq,
      plan.deliveries.map((d) => d.key),
    );
  }
  return { deliveries, keys };
}
