import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryRun } from '../../src/api/types.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { ControllerProcess } from '../harness/controller-process.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
  readCanary,
  setImage,
} from '../harness/weir.js';

const namespace = 'kills';
const canaries = 20;
const kills = 100;
const scale = 20; // 10 s intervals take 0.5 s of wall-clock time
const epoch = Date.now();
/** Printed, and taken from WEIR_FAULT_SEED when set, so a failing run can be replayed. */
const seed = Number(process.env.WEIR_FAULT_SEED ?? Date.now() % 2 ** 31);

/** A small seeded generator (mulberry32): the same seed gives the same kill times. */
function random(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const promoted = [
  'Progressing:NewRevision:0',
  'Progressing:StepAdvanced:25',
  'Progressing:StepAdvanced:50',
  'Promoting:Promoting:50',
  'Finalising:Finalising:50',
  'Succeeded:Succeeded:0',
];
// The first step moves the first traffic unmeasured; the metric fails from the second on.
const rolledBack = [
  'Progressing:NewRevision:0',
  'Progressing:StepAdvanced:25',
  'Progressing:CheckFailed:25',
  'Failed:RolledBack:0',
];

// Given 20 Canaries releasing at once and the controller as a real process, when
// it is killed with SIGKILL at 100 moments drawn from a seeded generator and started
// again each time, then every release ends as an uninterrupted one would: one run
// per release, the same transitions with none repeated or missing, one promotion.
describe(`SIGKILL at ${kills} random moments across ${canaries} releasing Canaries (seed ${seed})`, () => {
  let cluster: Cluster;
  let controller: ControllerProcess;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const names = Array.from({ length: canaries }, (_, i) => `app-${i}`);

  beforeAll(async () => {
    console.log(`SIGKILL fault test seed: ${seed} (replay with WEIR_FAULT_SEED=${seed})`);
    cluster = await startCluster({ nodes: 2, routerCrds: true });
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const name of names) {
      await createDeployment(apps, namespace, name, 1);
      // Every fifth Canary's releases fail: a metric with no Prometheus to answer it.
      const failing = Number(name.split('-')[1]) % 5 === 4;
      await createCanary(objects, namespace, name, {
        provider: 'gatewayapi',
        analysis: {
          interval: '10s',
          threshold: 2,
          maxWeight: 50,
          stepWeight: 25,
          ...(failing
            ? { metrics: [{ name: 'error-rate', query: 'sum(up)', thresholdRange: { max: 1 } }] }
            : {}),
        },
      });
    }
    controller = new ControllerProcess({
      kubeconfig: cluster.kubeconfigPath,
      time: { scale, epoch },
    });
    await controller.start();
    await waitFor(
      async () => {
        const list = await objects.list('weir.dev/v1alpha1', 'Canary', namespace);
        const ready = list.items.filter(
          (c) => (c as { status?: { phase?: string } }).status?.phase === 'Initialized',
        );
        return ready.length === canaries ? true : undefined;
      },
      { timeoutMs: 120_000, what: `${canaries} Canaries Initialized` },
    );
  }, 300_000);

  afterAll(async () => {
    await controller?.stop();
    await cluster?.stop();
  });

  // Each kill costs a process start (about 3 s here): 100 of them need more than Vitest's 10 min.
  it('ends every release as an uninterrupted run would', { timeout: 1_500_000 }, async () => {
    const next = random(seed);
    const releases = new Map<string, string[]>(names.map((n) => [n, []]));
    /** The run each Canary had when its latest release was started (the new one replaces it). */
    const runBefore = new Map<string, string | undefined>();
    const startRelease = async (name: string) => {
      const image = `example.test/${name}:${releases.get(name)!.length + 2}`;
      releases.get(name)!.push(image);
      runBefore.set(name, (await readCanary(objects, namespace, name)).status?.currentRun);
      await setImage(apps, namespace, name, image);
    };
    // Ended: a run newer than the one before the release, in Succeeded or Failed.
    const settled = async (name: string) => {
      const s = (await readCanary(objects, namespace, name)).status;
      return s?.currentRun !== runBefore.get(name) && /^(Succeeded|Failed)$/.test(s?.phase ?? '')
        ? s!.phase
        : undefined;
    };
    for (const name of names) await startRelease(name);

    let done = 0;
    const killedIn: string[] = [];
    while (done < kills) {
      await new Promise((r) => setTimeout(r, Math.floor(next() * 1_500)));
      const sample = (await readCanary(objects, namespace, names[done % canaries]!)).status;
      killedIn.push(`${sample?.phase}/${sample?.canaryWeight}`);
      await controller.kill('SIGKILL');
      await controller.start();
      done += 1;
      // Keep releases going: a Canary whose release ended starts its next one.
      for (const name of names) if (await settled(name)) await startRelease(name);
    }
    console.log(`killed ${done} times; sampled phases: ${[...new Set(killedIn)].join(', ')}`);

    // Let the last releases end, then read every run.
    await waitFor(
      async () => {
        for (const name of names) if (!(await settled(name))) return undefined;
        return true;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        what: `every release to end; controller log:\n${controller.log}`,
      },
    );
    const runs = await waitFor(
      async () => {
        const items = (await objects.list<CanaryRun>('weir.dev/v1alpha1', 'CanaryRun', namespace))
          .items;
        return items.every((r) => r.status?.result) ? items : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every run to record its result' },
    );
    let checked = 0;
    for (const name of names) {
      const failing = Number(name.split('-')[1]) % 5 === 4;
      const mine = runs.filter((r) => r.spec.canary === name);
      // Runs beyond the ten kept per Canary are pruned: check the ones that remain.
      const images = releases.get(name)!.slice(-10);
      for (const image of images) {
        const own = mine.filter((r) => r.spec.images?.to?.[0] === image);
        expect(own, `runs of ${name} for ${image}`).toHaveLength(1);
        const run = own[0]!;
        const timeline = (run.status?.transitions ?? []).map(
          (t) => `${t.to}:${t.reason}:${t.weight}`,
        );
        expect(timeline, `transitions of ${run.metadata.name}`).toEqual(
          failing ? rolledBack : promoted,
        );
        expect(run.status?.result).toBe(failing ? 'RolledBack' : 'Promoted');
        const seqs = (run.status?.transitions ?? []).map((t) => t.seq!);
        expect(seqs, `consecutive seqs of ${run.metadata.name}`).toEqual(
          seqs.map((_, i) => seqs[0]! + i),
        );
        checked += 1;
      }
      const seqs = mine.flatMap((r) => (r.status?.transitions ?? []).map((t) => t.seq));
      expect(new Set(seqs).size, `no transition of ${name} recorded twice`).toBe(seqs.length);
      // One promotion per promoted release: the primary runs the last promoted image.
      const primary = await apps.readNamespacedDeployment({ name: `${name}-primary`, namespace });
      const expected = failing ? `example.test/${name}:1` : releases.get(name)!.at(-1);
      expect(primary.spec?.template.spec?.containers[0]?.image).toBe(expected);
    }
    console.log(`checked ${checked} releases after ${done} kills (seed ${seed})`);
  });
});
