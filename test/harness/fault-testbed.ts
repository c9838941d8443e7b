import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { CanaryRun, CanaryStatus } from '../../src/api/types.js';
import type { App } from '../../src/app.js';
import type { StepContext } from '../../src/contracts/checks.js';
import { realClock } from '../../src/util/clock.js';
import { startCluster, type Cluster, type ClusterOptions } from './cluster.js';
import { ScriptedChecks, startController } from './controller.js';
import { recordRoutes, type RouteRecorder, type RouteWeight } from './route-recorder.js';
import { waitFor } from './wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  endedRun,
  installWeirCrds,
  readCanary,
  setImage,
} from './weir.js';

/** What one release under a fault did, as seen from outside the controller. */
export interface FaultOutcome {
  name: string;
  run: CanaryRun;
  /** The route's canary weight over the release (wall clock). */
  weights: RouteWeight[];
  /** The analysis steps the controller asked for during the release, with when. */
  checks: { step: StepContext; at: number }[];
  /** When the fault started and when it was over (wall clock). */
  faultAt: number;
  recoveredAt: number;
  /** When the Canary's status first changed after the fault was over. */
  progressedAt: number | undefined;
}

/** A control plane, Weir in-process on the wall clock, and releases to break. */
export interface FaultTestbed {
  readonly cluster: Cluster;
  readonly app: App;
  readonly objects: k8s.KubernetesObjectApi;
  readonly apps: k8s.AppsV1Api;
  readonly namespace: string;
  readonly intervalMs: number;
  readonly checks: ScriptedChecks;
  /** The controller's log (JSON lines). */
  controllerLog(): Promise<string>;
  status(name: string): Promise<CanaryStatus | undefined>;
  /** A Deployment `name` (two replicas) and its Canary (steps of 20 up to 60), bootstrapped. */
  bootstrap(name: string): Promise<void>;
  /**
   * Changes the image of `name`, waits until `when` holds for the Canary's status,
   * runs `fault`, and follows the release to its promotion (bounded).
   */
  releaseUnderFault(
    name: string,
    when: (status: CanaryStatus | undefined) => boolean,
    fault: () => Promise<void>,
  ): Promise<FaultOutcome>;
  /** Changes the image of `name` (a new revision): a release starts. */
  startRelease(name: string): Promise<void>;
  /** Sets `spec.progressDeadlineSeconds` of the Canary `name`. */
  setProgressDeadline(name: string, seconds: number): Promise<void>;
  /** The run of the Canary's current (or last) release, once it has its result. */
  endedRun(name: string): Promise<CanaryRun>;
  /** The assertions of a promotion that no fault disturbed. */
  expectUninterruptedPromotion(outcome: FaultOutcome): void;
  stop(): Promise<void>;
}

/** The transitions of a release promoted through steps of 20 to 60. */
export const promotedTimeline = [
  'Progressing:NewRevision:0',
  'Progressing:StepAdvanced:20',
  'Progressing:StepAdvanced:40',
  'Progressing:StepAdvanced:60',
  'Promoting:Promoting:60',
  'Finalising:Finalising:60',
  'Succeeded:Succeeded:0',
];

/**
 * Tolerance on the wall-clock checks: the test sees a route change through its
 * own watch, a little after the controller wrote it.
 */
const slackMs = 1_000;

export async function startFaultTestbed(options: {
  namespace: string;
  intervalMs: number;
  cluster?: ClusterOptions;
}): Promise<FaultTestbed> {
  const { namespace, intervalMs } = options;
  const cluster = await startCluster({ nodes: 1, ...options.cluster });
  let app: App | undefined;
  let recorder: RouteRecorder | undefined;
  let log: WriteStream | undefined;
  // Outside the cluster's directory, which goes with the cluster: the log outlives a failed test.
  const logPath = path.join(await mkdtemp(path.join(tmpdir(), 'weir-faults-')), 'controller.log');
  try {
    await installWeirCrds(cluster);
    const { kubeConfig, objects, apps } = clientsFor(cluster);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    recorder = await recordRoutes(kubeConfig, namespace);
    const checks = new ScriptedChecks();
    log = createWriteStream(logPath, { flags: 'a' });
    app = await startController({ kubeConfig, clock: realClock, checks, log });
    const images = new Map<string, number>();
    const status = async (name: string) => (await readCanary(objects, namespace, name)).status;

    const bed: FaultTestbed = {
      cluster,
      app,
      objects,
      apps,
      namespace,
      intervalMs,
      checks,
      controllerLog: () => readFile(logPath, 'utf8').catch(() => ''),
      status,
      async bootstrap(name) {
        await createDeployment(apps, namespace, name, 2);
        await createCanary(objects, namespace, name, {
          provider: 'gatewayapi',
          progressDeadlineSeconds: 120,
          analysis: {
            interval: `${intervalMs / 1000}s`,
            threshold: 2,
            stepWeight: 20,
            maxWeight: 60,
          },
        });
        images.set(name, 1);
        await waitFor(
          async () => ((await status(name))?.phase === 'Initialized' ? true : undefined),
          {
            timeoutMs: 60_000,
            what: `${namespace}/${name} to be Initialized`,
          },
        );
      },
      async releaseUnderFault(name, when, fault) {
        const before = (await status(name))?.lastPromotedSpec;
        const startedAt = Date.now();
        const firstCheck = checks.steps.length;
        await bed.startRelease(name);
        await waitFor(async () => (when(await status(name)) ? true : undefined), {
          timeoutMs: 120_000,
          intervalMs: 50,
          what: `${namespace}/${name} to reach the moment of the fault`,
        });
        const faultAt = Date.now();
        await fault();
        const recoveredAt = Date.now();
        const atRecovery = JSON.stringify(
          await waitFor(() => status(name), {
            timeoutMs: 60_000,
            what: 'the API server to answer after the fault',
          }),
        );
        let progressedAt: number | undefined;
        await waitFor(
          async () => {
            const s = await status(name);
            if (progressedAt === undefined && JSON.stringify(s) !== atRecovery)
              progressedAt = Date.now();
            const done =
              s?.phase === 'Succeeded' &&
              s.lastPromotedSpec !== before &&
              s.lastPromotedSpec === s.lastAppliedSpec;
            return done ? true : undefined;
          },
          {
            timeoutMs: 240_000,
            intervalMs: 100,
            what: `${namespace}/${name} to be promoted after the fault (controller log: ${logPath})`,
          },
        );
        const run = await endedRun(objects, namespace, name);
        return {
          name,
          run,
          weights: recorder!.weights(name).filter((w) => w.at >= startedAt),
          checks: checks.steps
            .slice(firstCheck)
            .map((step, i) => ({ step, at: checks.askedAt[firstCheck + i]! })),
          faultAt,
          recoveredAt,
          progressedAt,
        };
      },
      async startRelease(name) {
        const image = (images.get(name) ?? 1) + 1;
        images.set(name, image);
        await setImage(apps, namespace, name, `example.test/${name}:${image}`);
      },
      async setProgressDeadline(name, seconds) {
        await objects.patch(
          {
            apiVersion: 'weir.dev/v1alpha1',
            kind: 'Canary',
            metadata: { name, namespace },
            spec: { progressDeadlineSeconds: seconds },
          } as never,
          undefined,
          undefined,
          undefined,
          undefined,
          k8s.PatchStrategy.MergePatch,
        );
      },
      endedRun: (name) => endedRun(objects, namespace, name),
      expectUninterruptedPromotion(o) {
        const timeline = (o.run.status?.transitions ?? []).map(
          (t) => `${t.to}:${t.reason}:${t.weight}`,
        );
        expect(timeline, `transitions of ${o.run.metadata.name}`).toEqual(promotedTimeline);
        expect(o.run.status?.result).toBe('Promoted');
        const seqs = (o.run.status?.transitions ?? []).map((t) => t.seq!);
        expect(seqs, 'consecutive transitions, none repeated or missing').toEqual(
          seqs.map((_, i) => seqs[0]! + i),
        );
        // The route went 20, 40, 60, then back to 0: each weight once, in order.
        const weights = o.weights.map((w) => w.weight);
        expect(
          weights.filter((w) => w > 0),
          'canary weights the route carried',
        ).toEqual([20, 40, 60]);
        expect(weights.at(-1)).toBe(0);
        // Every raise of the weight came after a full interval at the previous weight,
        // and after a check asked at that weight once that interval had passed.
        for (let i = 1; i < o.weights.length; i++) {
          const [prev, next] = [o.weights[i - 1]!, o.weights[i]!];
          if (next.weight <= prev.weight) continue;
          expect(
            next.at - prev.at,
            `time at weight ${prev.weight} before it rose to ${next.weight}`,
          ).toBeGreaterThanOrEqual(intervalMs - slackMs);
          const own = o.checks.filter(
            (c) =>
              c.step.weight === prev.weight &&
              c.at >= prev.at + intervalMs - slackMs &&
              c.at <= next.at + slackMs,
          );
          expect(
            own.length,
            `checks at weight ${prev.weight} before the raise to ${next.weight}`,
          ).toBeGreaterThan(0);
        }
        // Progress within an interval of the recovery (plus what the watch takes to resume).
        expect(o.progressedAt, 'the release moved again after the fault').toBeDefined();
        expect(
          o.progressedAt! - o.recoveredAt,
          'time from the recovery to the next step of the release',
        ).toBeLessThanOrEqual(intervalMs + 15_000);
      },
      async stop() {
        await app?.stop();
        await recorder?.stop();
        log?.end();
        await cluster.stop();
      },
    };
    return bed;
  } catch (err) {
    await app?.stop().catch(() => undefined);
    await recorder?.stop().catch(() => undefined);
    log?.end();
    await cluster.stop();
    throw err;
  }
}
