import { describe, expect, it } from 'vitest';
import type { CanaryRun } from '../../../src/api/types.js';
import { renderCanary, renderList } from '../../../src/cli/get-view.js';
import { formatHistory } from '../../../src/cli/history.js';
import type { RecordEntry } from '../../../src/contracts/records.js';
import { view } from './get-view-fixture.js';

// Given recorded text from a hostile webhook or Prometheus (ESC sequences that repaint the
// screen, an OSC 8 link ended by BEL, C1 CSI, a bidi override), when `weir get` or
// `weir history` renders it, then the terminal receives none of those bytes.
const hostile =
  'HTTP 500: \x1b[2J\x1b[H\x1b]8;;https://evil.example\x07Succeeded\x07 \u009b31m\u0085 \u202egnp.exe\r\nnext';

/** C0 except newline, DEL, C1, and bidi overrides and isolates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const unsafe = /[\0-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u;

describe('terminal safety of the CLI views', () => {
  it('weir get: a transition message and a Ready message with ESC, BEL and C1 render inert', () => {
    const run = view.run!;
    const lines = renderCanary({
      ...view,
      canary: {
        ...view.canary,
        status: {
          ...view.canary.status,
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'RolledBack',
              message: hostile,
              lastTransitionTime: '2026-11-22T10:10:04Z',
            },
          ],
        },
      },
      run: {
        ...run,
        status: {
          transitions: [
            ...run.status!.transitions!,
            {
              time: '2026-11-22T10:10:34Z',
              to: 'Failed',
              event: 'checks',
              reason: 'RolledBack',
              weight: 0,
              message: hostile,
            },
          ],
        },
      },
    });
    for (const line of lines) {
      expect(line).not.toMatch(unsafe);
      expect(line).not.toContain('\n');
    }
    expect(lines.join('\n')).toContain(
      'HTTP 500: \\x1b[2J\\x1b[H\\x1b]8;;https://evil.example\\x07Succeeded\\x07 \\x9b31m\\x85 \\u{202e}gnp.exe next',
    );
  });

  it('weir get (list): names and revisions render inert', () => {
    const canary = {
      ...view.canary,
      status: { ...view.canary.status, lastAppliedSpec: 'abc\x1b[31m' },
    };
    for (const line of renderList([canary], view.now)) expect(line).not.toMatch(unsafe);
  });

  it('weir history: messages, webhook errors and pending outbox entries render inert', () => {
    const run: CanaryRun = {
      ...view.run!,
      spec: { ...view.run!.spec, images: { from: ['app:1\x1b]0;title\x07'], to: ['app:2'] } },
      status: {
        transitions: [
          {
            time: '2026-11-22T10:10:24Z',
            to: 'Progressing',
            event: 'checks',
            reason: 'CheckFailed',
            weight: 25,
            message: hostile,
            webhooks: [
              { name: 'load', type: 'rollout', passed: false, error: hostile, attempts: 1 },
            ],
          },
        ],
      },
    };
    const pending = {
      seq: 99,
      run: run.metadata.name,
      time: '2026-11-22T10:10:44Z',
      from: 'Progressing',
      to: 'Failed',
      event: 'checks',
      reason: 'RolledBack',
      message: hostile,
      weight: 0,
      failedChecks: 2,
    } as RecordEntry;
    const text = formatHistory('frontend', [run], [pending]);
    const lines = text.split('\n');
    for (const line of lines) expect(line).not.toMatch(unsafe);
    // One line per transition: a CR LF inside a message does not start a new one.
    expect(lines.filter((l) => l.includes('HTTP 500'))).toHaveLength(2);
    expect(text).toContain('load=HTTP 500: \\x1b[2J');
  });
});
