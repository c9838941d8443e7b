import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';

/** Options for {@link LeaderElector}. */
export interface LeaderElectionOptions {
  kubeConfig: k8s.KubeConfig;
  /** Namespace and name of the coordination.k8s.io Lease. */
  namespace: string;
  name: string;
  /** This replica, e.g. `<pod name>_<pid>`. */
  identity: string;
  clock: Clock;
  logger: Logger;
  /** How long a leader's claim lasts without renewal (default 15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it gives up (default 10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts (default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** The Lease API (tests inject one that hangs); from `kubeConfig` by default. */
  api?: LeaseApi;
}

/** The calls of the coordination API that leader election makes. */
export type LeaseApi = Pick<
  k8s.CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

export type Role = 'unknown' | 'leader' | 'standby';

/**
 * Lease-based leader election, as client-go does it: the leader renews the Lease
 * every retry period; a standby takes over once the Lease has not changed for a
 * whole lease duration, measured on its own clock (so clock skew between replicas
 * does not matter). Writes are optimistic (resourceVersion), so two replicas can
 * never both win. A leader that cannot renew within the renew deadline stops
 * leading, for good: a watchdog timer enforces the deadline even while a renewal
 * hangs, so it always stops before a standby may take over (renew deadline <
 * lease duration). On shutdown it releases the Lease so a standby takes over at once.
 */
export class LeaderElector {
  private readonly api: LeaseApi;
  private role_: Role = 'unknown';
  private cancel: (() => void) | undefined;
  /** Fires at the renew deadline unless a renewal re-arms it first. */
  private watchdog: (() => void) | undefined;
  private stopped = false;
  /** The Lease as last seen, and when (local clock) it last changed. */
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.api ?? options.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const { leaseMs, renewDeadlineMs, retryPeriodMs } = this.timings;
    if (renewDeadlineMs + retryPeriodMs >= leaseMs) {
      throw new Error(
        `Leader election: renew deadline (${renewDeadlineMs} ms) plus retry period (${retryPeriodMs} ms) must be shorter than the lease duration (${leaseMs} ms)`,
      );
    }
  }

  private get timings() {
    return {
      leaseMs: this.options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: this.options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: this.options.retryPeriodMs ?? 2_000,
    };
  }

  get role(): Role {
    return this.role_;
  }

  start(): void {
    void this.tick();
  }

  /** Stops; a leader releases the Lease first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.watchdog?.();
    if (this.role_ !== 'leader') return;
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.options.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = new k8s.V1MicroTime(this.options.clock.now());
        await this.api.replaceNamespacedLease({
          namespace: this.options.namespace,
          name: this.options.name,
          body: lease,
        });
        this.options.logger.info({ lease: this.leaseName }, 'Released the leader lease');
      }
    } catch (err) {
      this.options.logger.warn(
        { err, lease: this.leaseName },
        'Could not release the leader lease',
      );
    }
    this.role_ = 'standby';
  }

  private get leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { clock, logger } = this.options;
    let leading = false;
    try {
      leading = await this.tryAcquireOrRenew();
    } catch (err) {
      logger.debug({ err, lease: this.leaseName }, 'Leader election attempt failed');
    }
    // Stopped, or the watchdog already gave leadership up while this attempt hung.
    if (this.stopped) return;
    const now = clock.now();
    if (leading) {
      this.lastRenew = now;
      this.armWatchdog();
      if (this.role_ !== 'leader') {
        this.role_ = 'leader';
        logger.info(
          { lease: this.leaseName, identity: this.options.identity },
          'Became the leader',
        );
        this.options.onStartedLeading();
      }
    } else if (this.role_ === 'leader') {
      if (now - this.lastRenew > this.timings.renewDeadlineMs) this.loseLeadership();
      if (this.stopped) return;
    } else if (this.role_ === 'unknown') {
      this.role_ = 'standby';
      logger.info({ lease: this.leaseName }, 'Another replica leads; standing by');
    }
    this.cancel = clock.after(this.options.retryPeriodMs ?? 2_000, () => void this.tick());
  }

  /** (Re)starts the renew-deadline timer from the renewal that just succeeded. */
  private armWatchdog(): void {
    this.watchdog?.();
    this.watchdog = this.options.clock.after(this.timings.renewDeadlineMs, () =>
      this.loseLeadership(),
    );
  }

  /**
   * Stops leading at once and for good (the process exits and comes back as a
   * standby), whether or not a renewal is still pending: a late success must not
   * make this replica act again next to the one that took over.
   */
  private loseLeadership(): void {
    if (this.role_ !== 'leader' || this.stopped) return;
    this.stopped = true;
    this.role_ = 'standby';
    this.cancel?.();
    this.watchdog?.();
    this.options.logger.error(
      { lease: this.leaseName },
      'Lost the leader lease: could not renew it within the renew deadline',
    );
    this.options.onStoppedLeading();
  }

  private async read(): Promise<k8s.V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({
        namespace: this.options.namespace,
        name: this.options.name,
      });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { clock, identity, namespace, name } = this.options;
    const durationMs = this.options.leaseDurationMs ?? 15_000;
    const now = clock.now();
    const mine = (lease?: k8s.V1Lease): k8s.V1Lease => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace,
        ...(lease?.metadata?.resourceVersion
          ? { resourceVersion: lease.metadata.resourceVersion }
          : {}),
      },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(durationMs / 1000),
        renewTime: new k8s.V1MicroTime(now),
        acquireTime:
          lease?.spec?.holderIdentity === identity && lease.spec.acquireTime
            ? lease.spec.acquireTime
            : new k8s.V1MicroTime(now),
        leaseTransitions:
          (lease?.spec?.leaseTransitions ?? 0) +
          (lease?.spec?.holderIdentity === identity ? 0 : lease ? 1 : 0),
      },
    });
    const lease = await this.read();
    if (!lease) {
      await this.api.createNamespacedLease({ namespace, body: mine() });
      return true;
    }
    const holder = lease.spec?.holderIdentity;
    if (holder !== identity && holder) {
      // Someone else holds it: it has expired only if it has not changed for a whole duration.
      const record = JSON.stringify([
        holder,
        lease.spec?.renewTime,
        lease.metadata?.resourceVersion,
      ]);
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const heldFor = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
      if (now - this.observed.at < heldFor) return false;
    }
    await this.api.replaceNamespacedLease({ namespace, name, body: mine(lease) });
    return true;
  }
}
