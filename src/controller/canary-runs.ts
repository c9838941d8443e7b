import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersion } from '../api/crds.js';
import type { Canary, CanaryRun } from '../api/types.js';
import type { RecordEntry } from '../contracts/records.js';
import type { KubeAccess } from '../kube/access.js';
import { releaseResult } from '../machine/reasons.js';
import type { RunInfo } from '../notifications/delivery-plan.js';
import { canaryLabel, ownerReference } from '../workloads/generated.js';
import { claim, type Dispatch, type Planned } from './dispatch.js';

/** How many CanaryRuns are kept per Canary. */
export const runsKept = 10;
/** Transitions kept in one CanaryRun; the oldest are dropped past this. */
export const transitionsKept = 500;
/** Bytes of transitions one CanaryRun holds at most: the oldest go past it (etcd objects max 1.5 MiB). */
export const runBudgetBytes = 512 * 1024;

export type Images = { from: string[]; to: string[] };

/** What this process remembers of a Canary's runs, newer than the informer cache may be. */
export interface RunMemory {
  /**
   * The transitions last written to a run. Only the newest run is held (a Canary
   * appends to no other).
   */
  written?: { run: string; transitions: { seq: number }[]; resourceVersion: string | undefined };
  /** Images and start of the run this process last created, until the cache has it. */
  started?: { run: string; images: RunInfo['images']; startTime: string };
}

/** Options for {@link CanaryRunWriter}. */
export interface CanaryRunWriterOptions {
  kube: KubeAccess;
  logger: Logger;
  /** The CanaryRuns of a Canary, from the informer cache (ended runs may be trimmed: see `trimEndedRun`). */
  runsOf: (namespace: string, canary: string) => CanaryRun[];
  /** Reads one CanaryRun from the API server: only for the rare append to a trimmed run. */
  readRun?: (namespace: string, name: string) => Promise<CanaryRun | undefined>;
  dispatch?: Dispatch;
}

/** What one append writes: a run, its entries with their deliveries, and the images of a new run. */
export interface Append {
  run: string;
  planned: Planned[];
  images: Images;
}

/**
 * Writes CanaryRuns: creates a release's run, appends its transitions (each once,
 * by seq) with the deliveries they claim, keeps the newest runs of a Canary.
 */
export class CanaryRunWriter {
  constructor(private readonly options: CanaryRunWriterOptions) {}

  /** The runs of a Canary in the cache. */
  runsOf(canary: Canary): CanaryRun[] {
    return this.options.runsOf(canary.metadata.namespace!, canary.metadata.name!);
  }

  /** Name, images and start of an entry's run, for notifications. */
  runInfo(canary: Canary, memory: RunMemory, entry: RecordEntry, images: Images): RunInfo {
    const name = entry.run!;
    const cached = this.runsOf(canary).find((r) => r.metadata.name === name);
    if (cached)
      return {
        name,
        images: { from: cached.spec.images?.from ?? [], to: cached.spec.images?.to ?? [] },
        startTime: cached.spec.startTime,
      };
    if (memory.started?.run === name)
      return { name, images: memory.started.images, startTime: memory.started.startTime };
    return { name, images, startTime: entry.time };
  }

  /** Appends entries to their run in one status write, creating the run first if it is new. */
  async append(canary: Canary, memory: RunMemory, append: Append, readBack = false): Promise<void> {
    const { run: name, planned } = append;
    const ns = canary.metadata.namespace!;
    const cached = this.runsOf(canary).find((r) => r.metadata.name === name);
    const mine = readBack ? undefined : memory.written;
    let existing = (
      mine?.run === name ? mine.transitions : (cached?.status?.transitions ?? [])
    ) as ({ seq: number } & Record<string, unknown>)[];
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
    if (!cached && mine?.run !== name) base = await this.create(canary, memory, append, fresh);
    const claimed = claim(fresh, (problem) =>
      this.options.logger.warn({ canary: `${ns}/${canary.metadata.name}`, run: name }, problem),
    );
    const added = fresh.map(({ entry }) => transitionOf(entry, claimed.keys.get(entry.seq)));
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
        return this.append(canary, memory, append, true);
      throw err;
    }
    memory.written = { run: name, transitions, resourceVersion };
    if (claimed.deliveries.length) this.options.dispatch!.send(claimed.deliveries);
  }

  /** Creates a release's run and prunes the older ones; returns the new run's resourceVersion. */
  private async create(
    canary: Canary,
    memory: RunMemory,
    { run: name, images }: Append,
    fresh: Planned[],
  ): Promise<string | undefined> {
    const first = fresh[0]!.entry;
    const run: CanaryRun = {
      apiVersion,
      kind: 'CanaryRun',
      metadata: {
        name,
        namespace: canary.metadata.namespace!,
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
    const created = await this.options.kube.apply(run as unknown as k8s.KubernetesObject);
    memory.started = { run: name, images, startTime: first.time };
    await this.prune(canary, memory, name, first.time);
    return created?.metadata?.resourceVersion;
  }

  /** Keeps the newest runs of a Canary; a superseded run gets its result. */
  private async prune(
    canary: Canary,
    memory: RunMemory,
    newest: string,
    now: string,
  ): Promise<void> {
    const runs = this.runsOf(canary)
      .filter((r) => r.metadata.name !== newest)
      .sort((a, b) => (a.spec.startTime < b.spec.startTime ? 1 : -1));
    // A run this process just ended may still look open in the cache: its result stands.
    const mine = memory.written;
    const endedHere =
      mine && mine.transitions.some((t) => releaseResult(t as RecordEntry) !== undefined)
        ? mine.run
        : undefined;
    for (const open of runs.filter((r) => !r.status?.result && r.metadata.name !== endedHere)) {
      await this.options.kube.patchStatus(
        'canaryruns',
        { namespace: open.metadata.namespace!, name: open.metadata.name! },
        { result: 'Superseded', endTime: now },
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
}

/** A recorded entry as its run holds it, with the keys of the deliveries it claimed. */
function transitionOf(entry: RecordEntry, deliveries: string[] | undefined) {
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
    ...(entry.inconclusiveChecks ? { inconclusiveChecks: entry.inconclusiveChecks } : {}),
    ...(entry.metrics ? { metrics: entry.metrics } : {}),
    ...(entry.webhooks ? { webhooks: entry.webhooks } : {}),
    ...(deliveries ? { deliveries } : {}),
  };
}

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
