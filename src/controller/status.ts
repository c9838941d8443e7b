import type { CanaryPhase } from '../api/canary-schema.js';
import type { Canary, CanaryStatus } from '../api/types.js';
import type { Decision, MachineSnapshot } from '../machine/release.js';
import { stable } from '../workloads/workloads.js';
import type { RecordEntry } from '../contracts/records.js';

/** What `status.machine` holds: the machine's snapshot plus the recording outbox. */
export interface StatusMachine extends MachineSnapshot {
  /** Incremented on every status write: tells a stale cache from what was just written. */
  writes?: number;
  /** Highest seq given to a record entry. */
  seq?: number;
  /** Record entries not yet known to be in their CanaryRun. */
  outbox?: RecordEntry[];
  /** The CanaryRun of the current (or last) release. */
  run?: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
/** One status condition. */
export type Condition = NonNullable<CanaryStatus['conditions']>[number];

/** Condition saying whether the metric providers answer. */
export const metricsCondition = 'MetricsAvailable';

/** The machine part of a Canary's status, if any. */
export function statusMachine(status: CanaryStatus | undefined): StatusMachine | undefined {
  return status?.machine as StatusMachine | undefined;
}

/** The status of a Canary whose release the machine just decided. */
export function releaseStatus(input: {
  canary: Canary;
  decision: Decision;
  machine: StatusMachine;
  run: string | undefined;
  metrics: Condition | undefined;
  trackedConfigs: Record<string, string> | undefined;
  /** Who declares the target's replicas in Git, when someone does (Weir then leaves them alone). */
  replicasInGit?: { deployment: string; manager: string } | undefined;
  nowIso: string;
}): CanaryStatus {
  const { canary, decision: d, machine, run, nowIso } = input;
  const previous = canary.status ?? {};
  const generation = canary.metadata.generation ?? 0;
  const phaseChanged = previous.phase !== d.phase;
  const condition = conditionsAt(previous.conditions, { generation, nowIso });
  const rolledBack = d.context.message ?? 'Release rolled back';
  const ready: [ConditionStatus, string, string] =
    d.phase === 'Failed' ? ['False', 'RolledBack', rolledBack] : ['True', d.phase, phaseMessage(d)];
  const promoted: [ConditionStatus, string, string] =
    d.phase === 'Succeeded' || d.phase === 'Initialized'
      ? ['True', d.phase, `Revision ${d.context.promotedRevision} is promoted`]
      : d.phase === 'Failed'
        ? ['False', 'RolledBack', rolledBack]
        : ['Unknown', d.phase, phaseMessage(d)];
  return {
    phase: d.phase,
    canaryWeight: d.context.weight,
    failedChecks: d.context.failedChecks,
    ...(d.context.inconclusiveChecks ? { inconclusiveChecks: d.context.inconclusiveChecks } : {}),
    iterations: d.context.iterations,
    ...(d.context.revision ? { lastAppliedSpec: d.context.revision } : {}),
    ...(d.context.promotedRevision ? { lastPromotedSpec: d.context.promotedRevision } : {}),
    lastTransitionTime:
      phaseChanged || !previous.lastTransitionTime ? nowIso : previous.lastTransitionTime,
    observedGeneration: generation,
    conditions: [
      condition('Ready', ...ready),
      condition('Promoted', ...promoted),
      // kstatus (Flux, Argo CD health): a release in flight is Reconciling, a rolled-back one Stalled.
      ...kstatus(condition, d),
      ...(input.metrics ? [input.metrics] : []),
      ...(input.replicasInGit ? [replicasInGitCondition(condition, input.replicasInGit)] : []),
    ],
    ...(input.trackedConfigs ? { trackedConfigs: input.trackedConfigs } : {}),
    ...(run ? { currentRun: run } : {}),
    machine: machine as unknown as Record<string, unknown>,
  };
}

/** Condition saying that Git declares the target's replicas, so Weir never scales it. */
export const replicasInGitCondition = (
  condition: ConditionMaker,
  { deployment, manager }: { deployment: string; manager: string },
): Condition =>
  condition(
    'ReplicasInGit',
    'True',
    'DeclaredByApplier',
    `spec.replicas of Deployment ${deployment} is applied by ${manager}: Weir leaves it to Git and ` +
      'does not scale the idle target to zero, so neither reverts the other. Remove spec.replicas ' +
      'from the manifest to let Weir scale the idle target to zero (docs/gitops.md).',
  );

/** The status of a Canary that cannot be acted on: `Ready=False` and `Stalled` with the reason. */
export function blockedStatus(
  canary: Canary,
  reason: string,
  message: string,
  nowIso: string,
): CanaryStatus {
  const previous = canary.status ?? {};
  const generation = canary.metadata.generation ?? 0;
  const condition = conditionsAt(previous.conditions, { generation, nowIso });
  const others = (previous.conditions ?? []).filter(
    (c) => !['Ready', 'Stalled', 'Reconciling'].includes(c.type),
  );
  return {
    ...previous,
    observedGeneration: generation,
    conditions: [
      condition('Ready', 'False', reason, message),
      ...others,
      condition('Stalled', 'True', reason, message),
    ],
  };
}

/** Whether two statuses say the same (key order differs between the API server and Weir). */
export function sameStatus(a: CanaryStatus | undefined, b: CanaryStatus): boolean {
  return JSON.stringify(stable(a ?? {})) === JSON.stringify(stable(b));
}

/** Makes a condition from its four fields. */
export type ConditionMaker = (
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
) => Condition;

/**
 * Makes the conditions of one status write: each keeps its transition time when
 * its status did not change from `previous`.
 */
export function conditionsAt(
  previous: Condition[] | undefined,
  at: { generation: number; nowIso: string },
): ConditionMaker {
  return (type, status, reason, message) => {
    const old = previous?.find((c) => c.type === type);
    const changed = !old || old.status !== status;
    return {
      type,
      status,
      reason,
      message: message.slice(0, 32768),
      lastTransitionTime: changed ? at.nowIso : (old.lastTransitionTime ?? at.nowIso),
      observedGeneration: at.generation,
    };
  };
}

const inFlight = new Set<CanaryPhase>([
  'Initializing',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
]);

/** kstatus conditions: present only while true, as kstatus expects of abnormal-true conditions. */
function kstatus(condition: ConditionMaker, d: Decision): Condition[] {
  if (inFlight.has(d.phase)) return [condition('Reconciling', 'True', d.phase, phaseMessage(d))];
  if (d.phase === 'Failed') {
    const message = d.context.message ?? 'Release rolled back';
    return [condition('Stalled', 'True', 'RolledBack', message)];
  }
  return [];
}

function phaseMessage(d: Decision): string {
  switch (d.phase) {
    case 'Progressing':
      return `Analysing revision ${d.context.revision}: weight ${d.context.weight}, failed checks ${d.context.failedChecks}`;
    case 'Promoting':
      return `Promoting revision ${d.context.revision}`;
    case 'Finalising':
      return 'Routing all traffic to the primary';
    case 'Initializing':
      return 'Creating the primary and routing';
    default:
      return `Revision ${d.context.promotedRevision} runs on the primary`;
  }
}
