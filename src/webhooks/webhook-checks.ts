import type { WebhookType } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { CheckOutcome, CheckRunner, StepContext } from '../contracts/checks.js';
import { durationBounds } from '../api/limits.js';
import { boundedDurationMs } from '../api/durations.js';
import type {
  WebhookClient,
  WebhookPayload,
  WebhookResult,
  WebhookTarget,
} from './webhook-client.js';

type WebhookSpec = NonNullable<Canary['spec']['analysis']['webhooks']>[number];

/** Default timeout of one webhook call. */
export const defaultWebhookTimeoutMs = 10_000;

/** The call target of a webhook from the Canary spec. */
export function targetOf(w: WebhookSpec): WebhookTarget {
  return {
    name: w.name,
    type: w.type ?? 'rollout',
    url: w.url,
    timeoutMs: boundedDurationMs(w.timeout, defaultWebhookTimeoutMs, durationBounds.webhookTimeout),
    retries: w.retries ?? 0,
    insecureSkipVerify: Boolean(w.insecureSkipVerify),
  };
}

/** Flagger's payload for a webhook of a Canary. */
export function payloadOf(
  canary: Canary,
  w: WebhookSpec,
  at: { phase: string; revision: string },
  extra: Record<string, string> = {},
): WebhookPayload {
  const { phase, revision } = at;
  return {
    name: canary.metadata.name!,
    namespace: canary.metadata.namespace!,
    phase,
    checksum: revision,
    metadata: { ...(w.metadata ?? {}), ...extra },
  };
}

/**
 * The webhooks of an analysis step, with Flagger's semantics: `pre-rollout` and
 * `rollout` failing are failed checks; `confirm-*` answering 2xx opens its gate
 * (any other answer keeps it closed, which is not a failure); `rollback`
 * answering 2xx asks for a rollback. Which types run is the step's `hooks`.
 */
export class WebhookChecks implements CheckRunner {
  constructor(private readonly client: WebhookClient) {}

  async run(canary: Canary, context: StepContext): Promise<CheckOutcome> {
    const hooks = (canary.spec.analysis.webhooks ?? []).filter((w) =>
      context.hooks.includes(w.type ?? 'rollout'),
    );
    if (hooks.length === 0) return { passed: true, failures: [] };
    const results = await Promise.all(
      hooks.map((w) =>
        this.client.call(targetOf(w), payloadOf(canary, w, context), context.signal),
      ),
    );
    const of = (type: WebhookType) => results.filter((r) => r.type === type);
    const allPassed = (rs: WebhookResult[]) => rs.every((r) => r.passed);
    const failures = [...of('pre-rollout'), ...of('rollout')]
      .filter((r) => !r.passed)
      .map((r) => `webhook ${r.name} (${r.type}): ${r.error ?? 'failed'}`);
    const gate = (type: WebhookType) =>
      context.hooks.includes(type) && of(type).length > 0 ? allPassed(of(type)) : undefined;
    const gates = {
      ...(gate('confirm-rollout') !== undefined ? { rollout: gate('confirm-rollout')! } : {}),
      ...(gate('confirm-traffic-increase') !== undefined
        ? { trafficIncrease: gate('confirm-traffic-increase')! }
        : {}),
      ...(gate('confirm-promotion') !== undefined ? { promotion: gate('confirm-promotion')! } : {}),
    };
    const rollback = of('rollback').find((r) => r.passed);
    return {
      passed: failures.length === 0,
      failures,
      webhooks: results.map(({ attempts, ...r }) => ({ ...r, attempts })),
      gates,
      ...(rollback ? { rollbackRequested: rollback.name } : {}),
    };
  }
}
