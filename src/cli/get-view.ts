import type { Canary, CanaryRun } from '../api/types.js';
import { finalStepWeight } from '../machine/steps.js';
import { strategyOf } from '../api/strategy.js';
import { defaults } from '../api/durations.js';
import { oneLine, sanitize } from '../util/text.js';

/** What `weir get` shows for one Canary, besides the Canary itself. */
export interface CanaryView {
  canary: Canary;
  run?: CanaryRun;
  images: { primary: string[]; canary: string[] };
  /** Now, for ages (epoch ms). */
  now: number;
}

const icons: Record<string, string> = {
  Initializing: '◌',
  Initialized: '✔',
  Waiting: '⏸',
  Progressing: '◐',
  WaitingPromotion: '⏸',
  Promoting: '◑',
  Finalising: '◑',
  Succeeded: '✔',
  Failed: '✖',
  Terminating: '◌',
};

/** A weight as a bar: `[#####.....] 50%`. */
export function weightBar(weight: number, width = 20): string {
  const filled = Math.round((Math.max(0, Math.min(100, weight)) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${weight}%`;
}

/** Step N of M of the release, from the weight (weighted canary) or the iterations. */
export function stepOf(canary: Canary): { step: number; of: number } {
  const a = canary.spec.analysis;
  const weight = canary.status?.canaryWeight ?? 0;
  if (strategyOf(a) !== 'canary')
    return { step: canary.status?.iterations ?? 0, of: a.iterations ?? 1 };
  if (a.stepWeights?.length) {
    return { step: a.stepWeights.filter((w) => w <= weight).length, of: a.stepWeights.length };
  }
  const stepWeight = a.stepWeight ?? finalStepWeight(a);
  return { step: Math.ceil(weight / stepWeight), of: Math.ceil(finalStepWeight(a) / stepWeight) };
}

function age(at: string | Date | undefined, now: number): string {
  if (!at) return '-';
  const s = Math.max(0, Math.round((now - new Date(at).getTime()) / 1000));
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${s}s`;
}

/**
 * Recorded text on one terminal line: messages hold webhook answers and Prometheus errors,
 * chosen by whoever controls those endpoints; controls become visible escapes.
 */
export function terminalText(text: string | undefined): string {
  return sanitize(oneLine(text ?? ''));
}

/**
 * The detail view of one Canary, as lines: phase, weight as a bar, step N of M,
 * failed checks, images, the last metric values with their bounds, waiting
 * gates and the last transitions. Pure; the caller draws it. No line holds a
 * control, bidi or zero-width character (see {@link sanitize}).
 */
export function renderCanary(v: CanaryView): string[] {
  const { canary, run, now } = v;
  const s = canary.status ?? {};
  const a = canary.spec.analysis;
  const phase = s.phase ?? 'Unknown';
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  const lines = [
    `Name:        ${canary.metadata.name}    Namespace: ${canary.metadata.namespace}`,
    `Status:      ${icons[phase] ?? '?'} ${phase}${ready && ready.status !== 'True' ? `  (${ready.reason}: ${terminalText(ready.message)})` : ''}`,
    `Revision:    ${s.lastAppliedSpec ?? '-'}${s.lastPromotedSpec && s.lastPromotedSpec !== s.lastAppliedSpec ? `  (primary runs ${s.lastPromotedSpec})` : ''}`,
    `Images:      primary ${v.images.primary.join(', ') || '-'}`,
    `             canary  ${v.images.canary.join(', ') || '-'}`,
  ];
  const { step, of } = stepOf(canary);
  const strategy = strategyOf(a);
  lines.push(
    strategy === 'canary'
      ? `Weight:      ${weightBar(s.canaryWeight ?? 0)}   step ${step} of ${of}`
      : `Iterations:  ${step} of ${of} (${strategy === 'abTesting' ? 'A/B testing' : 'blue/green'})`,
  );
  const unjudged = s.inconclusiveChecks
    ? `; ${s.inconclusiveChecks} inconclusive in a row of limit ${a.inconclusiveLimit ?? defaults.inconclusiveLimit}`
    : '';
  lines.push(
    `Checks:      ${s.failedChecks ?? 0} failed of threshold ${a.threshold ?? 1}${unjudged}`,
  );
  const measured =
    [...(run?.status?.transitions ?? [])].reverse().find((t) => t.metrics?.length)?.metrics ?? [];
  if (measured.length > 0) {
    lines.push('Metrics:');
    for (const m of measured) {
      const bounds = [
        m.min !== undefined ? `min ${m.min}` : '',
        m.max !== undefined ? `max ${m.max}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      const value = m.value === undefined ? 'no data' : String(Number(m.value.toFixed(2)));
      const mark = m.passed ? '✔' : m.inconclusive ? '?' : '✖';
      const shown = m.judge && m.value === undefined ? '' : value;
      lines.push(
        `  ${mark} ${m.name.padEnd(24)} ${shown.padStart(8)}${bounds ? `   (${bounds})` : ''}`.trimEnd(),
      );
      // The judge's finding (or why there is none), in words, without the name again.
      const said = m.message?.startsWith(m.name)
        ? m.message.slice(m.name.length).replace(/^:?\s*/, '')
        : m.message;
      if (m.judge && said) lines.push(`      ${terminalText(said)}`);
      else if (m.inconclusive && m.message)
        lines.push(`      not judged: ${terminalText(m.message)}`);
    }
  }
  if (phase === 'Waiting' || phase === 'WaitingPromotion') {
    const gate = phase === 'Waiting' ? 'confirm-rollout' : 'confirm-promotion';
    lines.push(
      `Waiting for: ${gate} (a webhook answering 2xx, or weir.dev/approve=${s.lastAppliedSpec ?? '<revision>'})`,
    );
  }
  const transitions = (run?.status?.transitions ?? []).slice(-6);
  if (transitions.length > 0) {
    lines.push(`Last transitions (${run!.metadata.name}):`);
    for (const t of transitions)
      lines.push(
        `  ${t.time.slice(11, 19)}  ${t.to.padEnd(16)} ${String(t.weight ?? 0).padStart(3)}%  ${t.reason ?? ''}: ${terminalText(t.message)}`,
      );
  }
  lines.push(`Updated:     ${age(s.lastTransitionTime, now)} ago`);
  // Names, images and reasons too: the status and the run are only as trusted as their writers.
  return lines.map(sanitize);
}

/** The list view: one row per Canary, like `kubectl get canaries`. */
export function renderList(canaries: Canary[], now: number): string[] {
  const rows = canaries.map((c) => {
    const { step, of } = stepOf(c);
    return [
      c.metadata.name ?? '',
      c.status?.phase ?? '-',
      `${c.status?.canaryWeight ?? 0}%`,
      `${step}/${of}`,
      String(c.status?.failedChecks ?? 0),
      c.status?.lastAppliedSpec ?? '-',
      age(c.metadata.creationTimestamp, now),
    ];
  });
  const header = ['NAME', 'PHASE', 'WEIGHT', 'STEP', 'FAILED', 'REVISION', 'AGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].map(sanitize);
}
