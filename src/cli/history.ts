import type { CanaryRun } from '../api/types.js';
import { withPending, type RecordEntry } from '../contracts/records.js';
import { sanitize } from '../util/text.js';
import { terminalText } from './get-view.js';

const time = (iso: string | undefined) => (iso ? iso.slice(11, 19) : '--:--:--');

function duration(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return 'running';
  const s = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Renders the CanaryRuns of a Canary as a timeline, oldest first: one header per
 * release attempt, then one line per transition with its cause. `pending` are the
 * entries still waiting in the Canary status (its outbox) to be written to their run.
 * Every line is {@link sanitize}d, messages on one line: they carry webhook answers and Prometheus errors.
 */
export function formatHistory(
  canary: string,
  runs: CanaryRun[],
  pending: RecordEntry[] = [],
): string {
  if (runs.length === 0) return `No releases recorded for ${canary} yet.\n`;
  const lines: string[] = [];
  const sorted = [...runs].sort((a, b) => a.spec.startTime.localeCompare(b.spec.startTime));
  for (const run of sorted) {
    const from = run.spec.images?.from?.join(', ') || '?';
    const to = run.spec.images?.to?.join(', ') || '?';
    lines.push(
      `${run.metadata.name}  revision ${run.spec.revision}  ${run.status?.result ?? 'InProgress'}  (${duration(run.spec.startTime, run.status?.endTime)})`,
    );
    lines.push(`  images: ${from} -> ${to}`);
    for (const t of withPending(run, pending)) {
      const metrics = (t.metrics ?? [])
        .map((m) => {
          const verdict = m.passed ? '' : m.inconclusive ? ' (inconclusive)' : ' (failed)';
          // The judge's finding is in words: "latency 23 % higher than the primary (98 % CI …)".
          if (m.judge && m.message) return `${terminalText(m.message)}${verdict}`;
          const value = m.value === undefined ? 'no data' : String(Number(m.value.toFixed(2)));
          const bounds = [
            m.min !== undefined ? `min ${m.min}` : '',
            m.max !== undefined ? `max ${m.max}` : '',
          ]
            .filter(Boolean)
            .join(', ');
          const state = m.inconclusive ? 'inconclusive' : 'failed';
          return `${m.name}=${value}${m.passed ? '' : ` (${state}${bounds ? `, ${bounds}` : ''})`}`;
        })
        .join(' ');
      const hooks = (t.webhooks ?? [])
        .map((w) => `${w.name}=${w.statusCode ?? (w.error ? terminalText(w.error) : 'no answer')}`)
        .join(' ');
      lines.push(
        `  ${time(t.time)}  ${t.to.padEnd(12)} weight ${String(t.weight ?? 0).padStart(3)}  ${(t.reason ?? '').padEnd(16)} ${terminalText(t.message)}${metrics ? `  [${metrics}]` : ''}${hooks ? `  {${hooks}}` : ''}`,
      );
    }
    lines.push('');
  }
  return lines.map(sanitize).join('\n');
}
