import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as yaml from 'js-yaml';
import { parseConfig } from '../../src/config.js';
import { alwaysDeniedCidrs, privateCidrs } from '../../src/util/egress.js';
import { repoRoot } from '../harness/tools.js';

const chart = (file: string) => readFileSync(path.join(repoRoot, 'charts/weir', file), 'utf8');

// The chart's NetworkPolicy repeats the controller's ranges (Helm cannot import TypeScript):
// this fails when the two lists drift apart.
describe('the chart’s egress settings', () => {
  it('the NetworkPolicy denies every range the controller always denies, and the private ones', () => {
    const template = chart('templates/networkpolicy.yaml');
    for (const cidr of [...alwaysDeniedCidrs, ...privateCidrs])
      expect(template).toContain(`"${cidr}"`);
  });

  it('the default denyCidrs and maxMetricsResponseBytes are values the controller accepts', () => {
    const values = yaml.load(chart('values.yaml')) as {
      egress: { denyCidrs: string[]; denyPrivate: boolean };
      maxMetricsResponseBytes: number;
    };
    const config = parseConfig(
      [
        `--egress-deny-cidrs=${values.egress.denyCidrs.join(',')}`,
        `--max-metrics-response-bytes=${values.maxMetricsResponseBytes}`,
      ],
      {},
    )!;
    expect(config.egress).toEqual({ denyCidrs: ['100.100.100.200/32'], denyPrivate: false });
    expect(config.maxMetricsResponseBytes).toBe(4 * 1024 * 1024);
  });
});
