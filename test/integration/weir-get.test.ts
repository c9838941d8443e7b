import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveAnnotation } from '../../src/api/annotations.js';
import type { App } from '../../src/app.js';
import { manualClock, startInProcess } from '../harness/in-process.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
  readCanary,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const run = promisify(execFile);
const namespace = 'shop';

// Given a release driven by the controller, when a person runs `weir get --watch`
// in a terminal (a real pseudo-terminal, through tmux), then the screen shows the
// phase, the weight as a bar, the step, the waiting gate and the last transitions,
// redrawn in place as the release moves.
describe('weir get --watch in a terminal', () => {
  let cluster: Cluster;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const clock = manualClock();
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-tmux-'));
  const socket = path.join(dir, 'tmux.sock');
  const tmux = (...args: string[]) => run('tmux', ['-S', socket, ...args]);
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'weir')).stdout;
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe);
  /** Waits (in real time: the view polls every second) until the screen shows `text`. */
  const shows = (text: string | RegExp) =>
    waitFor(
      async () => {
        const s = await screen();
        return (typeof text === 'string' ? s.includes(text) : text.test(s)) ? s : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: `the screen to show ${String(text)}` },
    );

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await createDeployment(apps, namespace, 'podinfo', 1);
    app = await startInProcess(clientsFor(cluster).kubeConfig, { clock });
  }, 120_000);
  afterAll(async () => {
    await tmux('kill-server').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await app?.stop();
    await cluster?.stop();
  });

  it('draws the release as it happens', async () => {
    await createCanary(objects, namespace, 'podinfo', {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: {
        interval: '10s',
        maxWeight: 30,
        stepWeight: 10,
        threshold: 2,
        webhooks: [
          { name: 'qa', type: 'confirm-promotion', url: 'http://127.0.0.1:1/qa', timeout: '1s' },
        ],
      },
    });
    await until('Initialized', async () =>
      (await readCanary(objects, namespace, 'podinfo')).status?.phase === 'Initialized'
        ? true
        : undefined,
    );
    const command = [
      process.execPath,
      '--import',
      'tsx',
      path.join(repoRoot, 'src/cli/weir.ts'),
      'get',
      'podinfo',
      '-n',
      namespace,
      '--watch',
      `--kubeconfig=${cluster.kubeconfigPath}`,
    ].join(' ');
    await tmux('new-session', '-d', '-s', 'weir', '-x', '140', '-y', '30', '-c', repoRoot, command);

    let s = await shows('✔ Initialized');
    expect(s).toContain('Name:        podinfo    Namespace: shop');
    expect(s).toContain(`[${'.'.repeat(20)}] 0%   step 0 of 3`);
    expect(s).toContain('canary  -');

    await setImage(apps, namespace, 'podinfo', 'example.test/podinfo:2');
    await until('weight 10', async () =>
      (await readCanary(objects, namespace, 'podinfo')).status?.canaryWeight === 10
        ? true
        : undefined,
    );
    s = await shows('◐ Progressing');
    expect(s).toContain(`[##${'.'.repeat(18)}] 10%   step 1 of 3`);
    expect(s).toContain('primary example.test/podinfo:1');
    expect(s).toContain('canary  example.test/podinfo:2');
    expect(s).toMatch(/Progressing\s+10%\s+StepAdvanced: Advance canary weight to 10/);

    await until('WaitingPromotion', async () =>
      (await readCanary(objects, namespace, 'podinfo')).status?.phase === 'WaitingPromotion'
        ? true
        : undefined,
    );
    s = await shows('⏸ WaitingPromotion');
    expect(s).toContain(`[######${'.'.repeat(14)}] 30%   step 3 of 3`);
    expect(s).toMatch(
      /Waiting for: confirm-promotion \(a webhook answering 2xx, or weir\.dev\/approve=[0-9a-f]+\)/,
    );
    // Redrawn in place: one view on the screen, not a scroll of them.
    expect(s.match(/Name: {8}podinfo/g)).toHaveLength(1);

    const revision = (await readCanary(objects, namespace, 'podinfo')).status!.lastAppliedSpec!;
    await objects.patch(
      {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name: 'podinfo', namespace, annotations: { [approveAnnotation]: revision } },
      } as never,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await until('Succeeded', async () =>
      (await readCanary(objects, namespace, 'podinfo')).status?.phase === 'Succeeded'
        ? true
        : undefined,
    );
    s = await shows('✔ Succeeded');
    expect(s).toContain(`[${'.'.repeat(20)}] 0%`);
    expect(s).toContain('Succeeded: Revision');
    expect(s).not.toContain('Waiting for:');
  });
});
