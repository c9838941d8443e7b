import { describe, expect, it } from 'vitest';
import { canaryPhases } from '../../../src/api/canary-schema.js';
import {
  ageOf,
  formatAge,
  formatClock,
  formatDateTime,
  formatNumber,
  formatRelative,
  phaseGlyph,
  phases,
  phaseTone,
  streamStatus,
} from '../../../src/dashboard/ui/format.js';

describe('formatAge', () => {
  it.each([
    [0, '0s ago'],
    [59_999, '59s ago'],
    [60_000, '1m ago'],
    [59 * 60_000 + 59_000, '59m ago'],
    [3_600_000, '1h 0m ago'],
    [3_600_000 * 3 + 20 * 60_000, '3h 20m ago'],
    [86_400_000 * 2 + 3_600_000 * 4, '2d 4h ago'],
  ])('%i ms reads %s', (ms, text) => expect(formatAge(ms)).toBe(text));

  it('reads a time in the future (a clock ahead of the browser) as now, not negative', () => {
    expect(formatAge(-5000)).toBe('0s ago');
  });

  it('ages an ISO time against now, and gives nothing for one that does not parse', () => {
    const now = Date.parse('2026-12-04T10:10:30Z');
    expect(ageOf('2026-12-04T10:10:04Z', now)).toBe('26s ago');
    expect(ageOf('yesterday-ish', now)).toBe('');
    expect(ageOf(undefined, now)).toBe('');
  });
});

describe('clock times', () => {
  it('writes a time of day and a full time in the zone asked for', () => {
    expect(formatClock('2026-12-04T10:10:04Z', 'UTC')).toBe('10:10:04');
    expect(formatClock('2026-12-04T23:59:59Z', 'Asia/Tokyo')).toBe('08:59:59');
    expect(formatDateTime('2026-12-04T00:00:04Z', 'UTC')).toBe('2026-12-04 00:00:04');
    expect(formatClock('not a time', 'UTC')).toBe('');
  });
});

describe('numbers', () => {
  it.each([
    [71.3243, '71.32'],
    [9.94, '9.94'],
    [0, '0'],
    [0.000123456, '0.0001235'],
    [1240.4, '1,240'],
    [-2.5, '-2.5'],
    [undefined, '–'],
    [NaN, '–'],
    [Infinity, '–'],
  ])('%s reads %s', (v, text) => expect(formatNumber(v)).toBe(text));

  it('writes a null (how JSON carries a non-finite number) as no value', () => {
    expect(formatNumber(null)).toBe('–');
  });

  it("writes the judge's relative changes as signed percentages", () => {
    expect(formatRelative(0.23)).toBe('+23 %');
    expect(formatRelative(-0.045)).toBe('-4.5 %');
    expect(formatRelative(0)).toBe('0 %');
    expect(formatRelative(undefined)).toBe('–');
  });
});

describe('phases', () => {
  it('has a glyph and a tone for every phase of the Canary API, and Unknown', () => {
    expect(phases).toEqual([...canaryPhases, 'Unknown']);
    for (const p of phases) {
      expect(phaseGlyph(p), p).not.toBe('');
      expect(phaseTone(p), p).toMatch(/^(active|paused|good|bad|quiet)$/);
    }
  });

  it('tells success from failure by shape, not only colour', () => {
    expect(phaseGlyph('Succeeded')).not.toBe(phaseGlyph('Failed'));
    expect(phaseGlyph('Progressing')).not.toBe(phaseGlyph('Failed'));
  });

  it('draws a phase it does not know (a newer server) as a question mark', () => {
    expect(phaseGlyph('Hibernating')).toBe('?');
    expect(phaseTone('Hibernating')).toBe('quiet');
  });
});

describe('the stream status', () => {
  it('says in words whether the page is live, and that data may be stale when it is not', () => {
    expect(streamStatus('live').text).toBe('Live');
    expect(streamStatus('reconnecting').text).toMatch(/^Reconnecting… \(.*out of date\)$/);
    expect(streamStatus('retrying', 4000).text).toMatch(/^Disconnected; retrying in 4 s/);
    expect(streamStatus('live').glyph).not.toBe(streamStatus('retrying').glyph);
  });
});
