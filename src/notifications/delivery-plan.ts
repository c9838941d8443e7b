import type * as k8s from '@kubernetes/client-node';
import { secretData } from '../kube/secrets.js';
import { allowsNamespace } from '../api/allowed-namespaces.js';
import { credentialSecretProblem } from '../api/credentials.js';
import type { AlertProvider, Canary } from '../api/types.js';
import type { RecordEntry } from '../contracts/records.js';
import { releaseResult, warningReasons } from '../machine/reasons.js';
import { defaults } from '../api/durations.js';
import { payloadOf, targetOf } from '../webhooks/webhook-checks.js';
import type { Delivery } from './delivery-queue.js';
import { notificationFor, severities, type Severity } from './notification.js';
import type { NotifierRegistry } from './notifier.js';

/** The release a transition belongs to. */
export interface RunInfo {
  name: string;
  images: { from: string[]; to: string[] };
  startTime: string;
}

/** Options for {@link DeliveryPlanner}. */
export interface DeliveryPlannerOptions {
  notifiers: NotifierRegistry;
  alertProviders: (namespace: string, name: string) => AlertProvider | undefined;
  secrets: (namespace: string, name: string) => k8s.V1Secret | undefined;
  /** Makes `secrets(namespace, name)` current (a GET by name); see {@link DeliveryPlanner.prepare}. */
  loadSecret?: (namespace: string, name: string) => Promise<void>;
  /** Used by Canaries without `alerts` (`--alert-provider namespace/name`). */
  defaultProvider?: { namespace: string; name: string };
  /**
   * When false, a Canary may only use AlertProviders of its own namespace. When
   * true, also those of other namespaces that list its namespace in
   * `spec.allowedNamespaces`. The controller's own `defaultProvider` is exempt.
   */
  crossNamespaceRefs: boolean;
}

/** One alert a Canary asks for, with its provider's reference resolved. */
interface Alert {
  key: string;
  severity: Severity;
  steps: boolean;
  ref: { namespace: string; name: string };
}

/** What to send for one transition, and what could not be resolved. */
export interface DeliveryPlan {
  deliveries: Delivery[];
  problems: string[];
}

const notifyTimeoutMs = 10_000;
/** Attempts per notification: the first and four retries (1 s, 2 s, 4 s, 8 s apart). */
const notifyRetries = 4;

/**
 * Decides what a recorded transition sends: alerts (filtered by severity, steps
 * only when asked for), `event` webhooks for every transition, and
 * `post-rollout` webhooks when a release ends. Addresses come from Secrets.
 */
export class DeliveryPlanner {
  constructor(private readonly options: DeliveryPlannerOptions) {}

  plan(canary: Canary, entry: RecordEntry, run: RunInfo): DeliveryPlan {
    const deliveries: Delivery[] = [];
    const problems: string[] = [];
    const ns = canary.metadata.namespace!;
    const name = canary.metadata.name!;
    const base = { canary: `${ns}/${name}`, id: `${ns}/${run.name}/${entry.seq}` };
    const revision = entry.revision ?? '';

    for (const w of canary.spec.analysis.webhooks ?? []) {
      const type = w.type ?? 'rollout';
      const ended = releaseResult(entry) !== undefined && entry.from !== entry.to;
      if (type === 'event') {
        deliveries.push({
          ...base,
          key: `webhook/event/${w.name}`,
          kind: 'webhook',
          type,
          target: targetOf(w),
          body: payloadOf(
            canary,
            w,
            { phase: entry.to, revision },
            {
              eventMessage: entry.message,
              eventType: warningReasons.has(entry.reason) ? 'Warning' : 'Normal',
              timestamp: String(Date.parse(entry.time)),
            },
          ),
        });
      } else if (type === 'post-rollout' && ended) {
        deliveries.push({
          ...base,
          key: `webhook/post-rollout/${w.name}`,
          kind: 'webhook',
          type,
          target: targetOf(w),
          body: payloadOf(canary, w, { phase: entry.to, revision }),
        });
      }
    }

    const n = notificationFor(entry, {
      canary: name,
      namespace: ns,
      run: run.name,
      target: canary.spec.targetRef.name,
      images: run.images,
      startTime: run.startTime,
      threshold: canary.spec.analysis.threshold ?? defaults.threshold,
      inconclusiveLimit: canary.spec.analysis.inconclusiveLimit ?? defaults.inconclusiveLimit,
    });
    if (!n) return { deliveries, problems };
    // muteAlert: a failed check caused only by muted webhooks sends no alert.
    const muted = new Set(
      (canary.spec.analysis.webhooks ?? []).filter((w) => w.muteAlert).map((w) => w.name),
    );
    const failing = [
      ...(entry.metrics ?? []).filter((m) => !m.passed).map((m) => `metric/${m.name}`),
      ...(entry.webhooks ?? []).filter((w) => !w.passed).map((w) => w.name),
    ];
    if (n.kind === 'check-failed' && failing.length > 0 && failing.every((f) => muted.has(f)))
      return { deliveries, problems };
    const alerts = this.alertsOf(canary);
    for (const a of alerts) {
      if (severities.indexOf(n.severity) < severities.indexOf(a.severity)) continue;
      if (n.kind === 'step' && !a.steps) continue;
      const where = `AlertProvider ${a.ref.namespace}/${a.ref.name}`;
      const provider = this.providerOf(ns, a);
      if ('error' in provider) {
        problems.push(`${a.key}: ${provider.error}`);
        continue;
      }
      const notifier = this.options.notifiers.resolve(provider.spec.type);
      if ('error' in notifier) {
        problems.push(`${a.key}: ${notifier.error}`);
        continue;
      }
      const secretRef = { namespace: a.ref.namespace, name: provider.spec.secretRef.name };
      const secret = this.options.secrets(secretRef.namespace, secretRef.name);
      const refused = secret && credentialSecretProblem(secret, secretRef);
      if (refused) {
        problems.push(`${a.key}: ${where}: ${refused}`);
        continue;
      }
      const data = secret ? secretData(secret) : {};
      const address = data.address;
      const proxy = data.proxy ?? provider.spec.proxy;
      if (!address || !/^https?:\/\//.test(address)) {
        problems.push(
          `${a.key}: ${where}: Secret ${a.ref.namespace}/${provider.spec.secretRef.name} ${secret ? 'has no http(s) URL under the key address' : 'not found'}`,
        );
        continue;
      }
      deliveries.push({
        ...base,
        key: a.key,
        kind: 'alert',
        type: provider.spec.type,
        target: {
          name: a.key,
          type: provider.spec.type,
          url: address,
          timeoutMs: notifyTimeoutMs,
          retries: notifyRetries,
          insecureSkipVerify: false,
          // The Secret's proxy (which may carry credentials) wins over the spec's.
          ...(proxy ? { proxy } : {}),
        },
        body: notifier.body(n, provider.spec),
        ...(data.token ? { headers: { Authorization: `Bearer ${data.token}` } } : {}),
      });
    }
    return { deliveries, problems };
  }

  /**
   * Reads the Secrets of the AlertProviders this Canary may use (Secrets are read by
   * name, not watched): call before {@link plan} when the options have `loadSecret`.
   */
  async prepare(canary: Canary): Promise<void> {
    const load = this.options.loadSecret;
    if (!load) return;
    const ns = canary.metadata.namespace!;
    const reads: Promise<void>[] = [];
    for (const a of this.alertsOf(canary)) {
      const provider = this.providerOf(ns, a);
      if (!('error' in provider)) reads.push(load(a.ref.namespace, provider.spec.secretRef.name));
    }
    await Promise.all(reads);
  }

  /** The alerts a Canary asks for, or the controller's default provider. */
  private alertsOf(canary: Canary): Alert[] {
    const ns = canary.metadata.namespace!;
    if (canary.spec.analysis.alerts?.length)
      return canary.spec.analysis.alerts.map((a) => ({
        key: `alert/${a.name}`,
        severity: (a.severity ?? 'info') as Severity,
        steps: Boolean(a.includeSteps),
        ref: { namespace: a.providerRef.namespace ?? ns, name: a.providerRef.name },
      }));
    const ref = this.options.defaultProvider;
    return ref ? [{ key: 'alert/default', severity: 'info', steps: false, ref }] : [];
  }

  /** The AlertProvider of an alert of a Canary in namespace `ns`, if it may use it. */
  private providerOf(ns: string, a: Alert): AlertProvider | { error: string } {
    const where = `AlertProvider ${a.ref.namespace}/${a.ref.name}`;
    const isDefault = a.key === 'alert/default';
    if (a.ref.namespace !== ns && !this.options.crossNamespaceRefs && !isDefault)
      return {
        error: `${where} is in another namespace, and this controller forbids cross-namespace references`,
      };
    const provider = this.options.alertProviders(a.ref.namespace, a.ref.name);
    if (!provider) return { error: `${where} not found` };
    if (!isDefault && !allowsNamespace(a.ref.namespace, provider.spec.allowedNamespaces, ns))
      return { error: `${where} does not list namespace ${ns} in spec.allowedNamespaces` };
    return provider;
  }
}
