/**
 * The detail page's facts, decided purely: what Git declares against what the primary
 * runs, the webhooks' latest answers, and what each action would be as a GitOps change.
 * detail.ts and actions.ts draw them.
 */
import type { ActionView, ReleaseView, TransitionView } from '../model.js';

/** One container's image as Git declares it and as the primary runs it. */
export interface ImagePair {
  declared?: string;
  running?: string;
  differs: boolean;
}

/**
 * Declared (the target's template) against running (the primary), container by container
 * in the order both list them. `differs` overall when any pair differs, or when the
 * primary does not exist yet (nothing runs).
 */
export function compareImages(
  declared: readonly string[],
  running: readonly string[],
): { pairs: ImagePair[]; differs: boolean } {
  const length = Math.max(declared.length, running.length);
  const pairs = Array.from({ length }, (_, i) => {
    const [d, r] = [declared[i], running[i]];
    return {
      ...(d === undefined ? {} : { declared: d }),
      ...(r === undefined ? {} : { running: r }),
      differs: d !== r,
    };
  });
  return { pairs, differs: pairs.some((p) => p.differs) };
}

/** The button's label of each action. */
export const actionLabels: Record<ActionView['action'], string> = {
  promote: 'Promote',
  abort: 'Abort',
  retry: 'Retry',
  approve: 'Approve',
};

/** What each action does (docs/adr/0004-manual-control.md). */
export const actionEffects: Record<ActionView['action'], string> = {
  promote: 'Promotes the release now, skipping the rest of its analysis.',
  abort: 'Rolls the release back now (phase Failed, result Aborted).',
  retry: 'Releases the failed revision again.',
  approve: 'Opens the confirm gates (rollout and promotion) for this revision.',
};

/**
 * The change a GitOps user would commit instead of taking `action` here: the
 * annotation and its value on the Canary, as YAML.
 */
export function gitOpsChange(action: ActionView): string {
  return [
    'metadata:',
    '  annotations:',
    `    ${action.annotation}: ${JSON.stringify(action.value ?? '')}`,
  ].join('\n');
}

/** What an action's answer says, for the status region: its message, its error, or why not. */
export function answerText(status: number, body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.message === 'string' && status >= 200 && status < 300) return b.message;
  if (typeof b.error === 'string') return `Refused (${status}): ${b.error}`;
  return status >= 200 && status < 300
    ? 'Requested.'
    : `The dashboard answered ${status} without a reason.`;
}

/** A webhook's answers over a release, newest first. */
export interface WebhookHistory {
  name: string;
  type: string;
  answers: (TransitionView['webhooks'][number] & { time: string })[];
}

/** The webhooks (and gates) a release called, each with its answers, newest first. */
export function webhookHistories(transitions: readonly TransitionView[]): WebhookHistory[] {
  const byName = new Map<string, WebhookHistory>();
  for (const t of transitions)
    for (const w of t.webhooks) {
      const key = `${w.type}/${w.name}`;
      let h = byName.get(key);
      if (!h) byName.set(key, (h = { name: w.name, type: w.type, answers: [] }));
      h.answers.unshift({ ...w, time: t.time });
    }
  return [...byName.values()];
}

/** A release's title: `frontend-8`, in flight, or how it ended. */
export function releaseState(release: ReleaseView): string {
  return release.result ?? (release.endTime ? 'Ended' : 'In flight');
}
