import type { CanaryDetail } from '../../src/dashboard/model.js';
import { afterAll, describe, expect, it } from 'vitest';
import { readCanary, clientsFor } from '../harness/weir.js';
import {
  app,
  demoRuns,
  describeTraffic,
  namespace,
  setUpStory,
  type Story,
} from '../../hack/demo/story.js';
import * as k8s from '@kubernetes/client-node';

// The README's first command tells this story; this runs the same story in-process
// and checks its outcome where it really is: in the API server and the receiver.
describe('the demo story', () => {
  let story: Story | undefined;
  afterAll(async () => {
    await story?.stop();
  });

  it(
    'promotes 1.0.1 step by step, rolls back 1.0.2, and tells Slack both',
    { timeout: 900_000 },
    async ({ annotate }) => {
      const lines: string[] = [];
      story = await setUpStory({
        say: (l) => lines.push(l),
        slack: () => undefined,
        block: (t) => lines.push(t),
      });
      const { v2, v3 } = await story.play();
      expect([v2, v3]).toEqual(['Succeeded', 'Failed']);

      const kubeConfig = new k8s.KubeConfig();
      kubeConfig.loadFromFile(story.cluster.kubeconfigPath);
      const runs = await demoRuns(kubeConfig);
      expect(runs.map((r) => r.status?.result)).toEqual(['Promoted', 'RolledBack']);
      const [promoted, rolledBack] = runs as [(typeof runs)[0], (typeof runs)[0]];
      expect(promoted.spec.images).toEqual({
        from: ['weir-demo-app:1.0.0'],
        to: ['weir-demo-app:1.0.1'],
      });
      expect(
        promoted
          .status!.transitions!.filter((t) => t.reason === 'StepAdvanced')
          .map((t) => t.weight),
      ).toEqual([25, 50]);
      // 1.0.1 was judged on real traffic: every check after the first step had values, all passing.
      const judged = promoted.status!.transitions!.filter((t) => t.metrics?.length);
      expect(judged.length).toBeGreaterThan(0);
      for (const t of judged)
        expect(t.metrics!.every((m) => m.passed && m.value !== undefined)).toBe(true);
      // 1.0.2 failed on its success rate, with the values in the record. Either failed
      // check may be the one that shows it: on real traffic a window can also fail its
      // comparison with the primary instead (seen once, with the canary at 100).
      const last = rolledBack.status!.transitions!.at(-1)!;
      expect(last.reason).toBe('RolledBack');
      const rates = rolledBack
        .status!.transitions!.flatMap((t) => t.metrics ?? [])
        .filter((m) => m.name === 'request-success-rate' && !m.passed);
      expect(rates.length).toBeGreaterThan(0);
      expect(rates.some((m) => m.value !== undefined && m.value < 90)).toBe(true);

      const { objects } = clientsFor(story.cluster);
      const canary = await readCanary(objects, namespace, app);
      expect(canary.status).toMatchObject({
        phase: 'Failed',
        canaryWeight: 0,
        lastPromotedSpec: promoted.spec.revision,
      });

      const headers = story.slackMessages.map((m) => m.text.split('\n')[0]);
      expect(headers).toEqual([
        ':rocket: Release started: frontend in shop',
        ':white_check_mark: Promoted: frontend in shop',
        ':rocket: Release started: frontend in shop',
        ':warning: Check failed (1/2): frontend in shop',
        ':rotating_light: Rolled back: frontend in shop',
      ]);
      expect(story.slackMessages.at(-1)!.text).toContain('Revert the commit or push a fix');

      // The traffic went through the real gateway: Traefik's own counters show both the
      // primary and the canary Service answering during the 1.0.1 release, and (about) every
      // request the load generator sent there.
      const v101 = story.traffic['1.0.1']!;
      expect(v101.sent).toBeGreaterThan(200);
      expect(v101.gateway['frontend-primary']).toBeGreaterThan(0);
      expect(v101.gateway['frontend-canary']).toBeGreaterThan(0);
      const routed = Object.values(v101.gateway).reduce((a, n) => a + n, 0);
      expect(Math.abs(routed - v101.sent)).toBeLessThan(v101.sent * 0.1);
      expect((await fetch(`${story.gatewayUrl}/`)).status).toBe(200);
      for (const [version, t] of Object.entries(story.traffic))
        await annotate(`${version}: ${describeTraffic(t)}`);

      // The dashboard followed the story: the Canary's page holds the promoted 1.0.1 and the
      // rolled-back 1.0.2 with its reason.
      expect(story.dashboardUrl).toBeDefined();
      const detail = (await (
        await fetch(`${story.dashboardUrl}api/canaries/${namespace}/${app}`)
      ).json()) as CanaryDetail;
      expect(detail.row.phase).toBe('Failed');
      expect(detail.releases.slice(0, 2).map((r) => r.result)).toEqual(['RolledBack', 'Promoted']);
      expect(detail.releases[0]!.transitions.at(-1)).toMatchObject({
        to: 'Failed',
        reason: 'RolledBack',
      });
      expect(detail.releases[0]!.transitions.at(-1)!.message).toMatch(/request-success-rate/);
      expect(detail.actions).toEqual([]);

      const prometheus = story.prometheus.url;
      const pids = story.localPids();
      expect(pids.length).toBeGreaterThanOrEqual(4);
      await story.stop();
      story = undefined;
      await expect(fetch(`${prometheus}/-/ready`)).rejects.toThrow();
      // No pod process outlives the story (one used to be started during stop).
      const alive = pids.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      expect(alive, 'pod processes still running').toEqual([]);
    },
  );
});
