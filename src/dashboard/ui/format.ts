/**
 * How the page writes phases, ages, times and numbers. Pure: no DOM, so the unit tests
 * run it in Node.
 */
import type { CanaryRow } from '../model.js';

/** A Canary's phase as the page receives it. */
export type Phase = CanaryRow['phase'];

/**
 * Each phase's glyph, as `weir get` draws them (src/cli/get-view.ts), so a phase reads by
 * shape as well as by its name, never by colour alone. The order is the lifecycle's, which
 * the phase filter and the phase column's sort follow.
 */
export const phaseGlyphs: Record<Phase, string> = {
  Initializing: '◌',
  Initialized: '○',
  Waiting: '‖',
  Progressing: '◐',
  WaitingPromotion: '‖',
  Promoting: '◑',
  Finalising: '◑',
  Succeeded: '✔',
  Failed: '✖',
  Terminating: '◌',
  Terminated: '■',
  Unknown: '?',
};

/** Every phase, in lifecycle order. */
export const phases = Object.keys(phaseGlyphs) as Phase[];

/** A phase's tone, which picks its colour in app.css (the glyph and the name carry it too). */
export type Tone = 'active' | 'paused' | 'good' | 'bad' | 'quiet';

const tones: Record<Phase, Tone> = {
  Initializing: 'quiet',
  Initialized: 'quiet',
  Waiting: 'paused',
  Progressing: 'active',
  WaitingPromotion: 'paused',
  Promoting: 'active',
  Finalising: 'active',
  Succeeded: 'good',
  Failed: 'bad',
  Terminating: 'quiet',
  Terminated: 'quiet',
  Unknown: 'quiet',
};

/** The glyph of a phase; `?` for one this page does not know (a newer server). */
export const phaseGlyph = (phase: string): string => phaseGlyphs[phase as Phase] ?? '?';

/** The tone of a phase; quiet for one this page does not know. */
export const phaseTone = (phase: string): Tone => tones[phase as Phase] ?? 'quiet';

/** How long ago, from a duration in milliseconds: `42s ago`, `5m ago`, `3h 20m ago`, `2d 4h ago`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m ago`;
  return `${Math.floor(h / 24)}d ${h % 24}h ago`;
}

/** The age of an ISO time at `now` (epoch ms); empty when the time does not parse. */
export function ageOf(iso: string | undefined, now: number): string {
  const at = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(at) ? '' : formatAge(now - at);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function parts(at: number, timeZone: string | undefined): Record<string, string> {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      ...(timeZone ? { timeZone } : {}),
    });
    formatters.set(key, f);
  }
  return Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
}

/** `10:10:04` in `timeZone` (the browser's own when undefined); empty when it does not parse. */
export function formatClock(iso: string | undefined, timeZone?: string): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return '';
  const p = parts(at, timeZone);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** `2026-12-04 10:10:04` in `timeZone` (the browser's own when undefined). */
export function formatDateTime(iso: string | undefined, timeZone?: string): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return '';
  const p = parts(at, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** A measured value in four significant digits (thousands grouped); `–` when there is none. */
export function formatNumber(v: number | null | undefined): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
  return String(Number(v.toPrecision(4)));
}

/** A relative change (the judge's) as a signed percentage: `+23 %`, `-4.5 %`. */
export function formatRelative(v: number | null | undefined): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  const pct = Number((v * 100).toPrecision(3));
  return `${pct > 0 ? '+' : ''}${pct} %`;
}

/** A weight as a percentage clamped to 0–100 (the bar's length). */
export const clampWeight = (w: number): number =>
  Number.isFinite(w) ? Math.max(0, Math.min(100, w)) : 0;

/** The connection's state in words (with a glyph the page hides from screen readers). */
export function streamStatus(
  state: 'connecting' | 'live' | 'reconnecting' | 'retrying',
  retryInMs = 0,
): { glyph: string; text: string } {
  const stale = ' (what is shown may be out of date)';
  switch (state) {
    case 'connecting':
      return { glyph: '◌', text: 'Connecting…' };
    case 'live':
      return { glyph: '●', text: 'Live' };
    case 'reconnecting':
      return { glyph: '◌', text: `Reconnecting…${stale}` };
    case 'retrying':
      return {
        glyph: '✖',
        text: `Disconnected; retrying in ${Math.ceil(retryInMs / 1000)} s${stale}`,
      };
  }
}
