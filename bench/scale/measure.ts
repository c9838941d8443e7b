import { cpuOf, treeCpuSeconds } from './proc.js';
import {
  bucketDelta,
  bucketsOf,
  histogramQuantile,
  parseExposition,
  sumOf,
  type TextSample,
} from './prom-text.js';
import type { Sample } from './stats.js';

/** Fetches a /metrics page (2 s bound); undefined when it does not answer. */
export async function scrape(url: string): Promise<TextSample[] | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? parseExposition(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of every watched process (and the bench itself) at one moment. */
export interface CpuCheckpoint {
  at: number;
  seconds: Record<string, number>;
}

/** Reads the CPU seconds of the controller (with its helpers), the components and the bench. */
export async function cpuCheckpoint(
  controllerPid: number | undefined,
  components: Record<string, number>,
): Promise<CpuCheckpoint> {
  const seconds = await cpuOf(components);
  if (controllerPid !== undefined) seconds.controller = await treeCpuSeconds(controllerPid);
  const own = process.cpuUsage();
  seconds['bench (with exporter)'] = (own.user + own.system) / 1e6;
  return { at: Date.now(), seconds };
}

/** CPU seconds each process used between two checkpoints, rounded to 0.1 s. */
export function cpuBetween(a: CpuCheckpoint, b: CpuCheckpoint): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(b.seconds))
    out[name] = Number((v - (a.seconds[name] ?? 0)).toFixed(1));
  return out;
}

/** Count, rate and latency of what a request histogram recorded between two scrapes. */
export interface HistogramStats {
  queries: number;
  perSecond: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * What the histogram `name` (seconds) recorded between two scrapes, over the
 * series whose labels include `match`: e.g. Prometheus's own
 * prometheus_http_request_duration_seconds{handler="/api/v1/query"}.
 */
export function histogramStats(
  before: TextSample[] | undefined,
  after: TextSample[] | undefined,
  name: string,
  match: Record<string, string>,
  seconds: number,
): HistogramStats | undefined {
  if (!before || !after) return undefined;
  const queries = sumOf(after, `${name}_count`, match) - sumOf(before, `${name}_count`, match);
  const sum = sumOf(after, `${name}_sum`, match) - sumOf(before, `${name}_sum`, match);
  const buckets = bucketDelta(bucketsOf(before, name, match), bucketsOf(after, name, match));
  const ms = (v: number) => (Number.isNaN(v) ? NaN : Number((v * 1000).toFixed(1)));
  return {
    queries,
    perSecond: Number((queries / Math.max(seconds, 0.001)).toFixed(1)),
    meanMs: ms(queries > 0 ? sum / queries : NaN),
    p50Ms: ms(histogramQuantile(0.5, buckets)),
    p99Ms: ms(histogramQuantile(0.99, buckets)),
  };
}

/** Per-label-set delta of a counter between two scrapes, keyed by `verb resource`. */
export function counterDelta(
  before: TextSample[] | undefined,
  after: TextSample[] | undefined,
  name: string,
  key: (labels: Record<string, string>) => string,
): Record<string, number> | undefined {
  if (!after) return undefined;
  const out: Record<string, number> = {};
  const base = new Map(
    (before ?? []).filter((s) => s.name === name).map((s) => [key(s.labels), s.value]),
  );
  for (const s of after) {
    if (s.name !== name) continue;
    const d = s.value - (base.get(key(s.labels)) ?? 0);
    if (d > 0) out[key(s.labels)] = d;
  }
  return out;
}

/**
 * Polls the controller's /metrics every `everyMs` and keeps the event-loop lag
 * p99 it reports (prom-client resets its histogram at each scrape, so each value
 * covers the time since the previous poll).
 */
export function pollMetric(url: string, everyMs: number, metric: string) {
  const samples: Sample[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void scrape(url)
      .then((s) => {
        const v = s?.find((x) => x.name === metric)?.value;
        if (v !== undefined && !Number.isNaN(v)) samples.push({ at: Date.now(), value: v });
      })
      .finally(() => (busy = false));
  }, everyMs);
  return { samples, stop: () => clearInterval(timer) };
}
