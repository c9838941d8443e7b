import type * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import type { CheckOutcome, CheckRunner, StepContext } from '../../src/contracts/checks.js';
import { createLogger } from '../../src/logger.js';
import type { Clock, ManualClock } from '../../src/util/clock.js';
import { readCanary, stepUntil } from './weir.js';

/** A check runner the test sets: every analysis step gets `outcome`; `steps` records each step asked. */
export class ScriptedChecks implements CheckRunner {
  outcome: CheckOutcome = { passed: true, failures: [] };
  readonly steps: StepContext[] = [];
  /** When each step was asked (wall clock, epoch ms), in the order of `steps`. */
  readonly askedAt: number[] = [];
  async run(_canary: unknown, step: StepContext): Promise<CheckOutcome> {
    this.steps.push(step);
    this.askedAt.push(Date.now());
    return this.outcome;
  }
}

/**
 * Starts Weir in-process against a cluster, on the given clock (a manual one in
 * most tests), with a quiet logger unless `log` is given, and the given flags
 * (metrics and health servers on free ports). Stop it with `app.stop()`.
 */
export async function startController(options: {
  kubeConfig: k8s.KubeConfig;
  clock: Clock;
  checks?: CheckRunner;
  args?: string[];
  /** Where the controller's log lines go, at debug level (default: nowhere). */
  log?: Writable;
}): Promise<App> {
  const config = parseConfig(
    [
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      ...(options.args ?? []),
    ],
    {},
  )!;
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  const app = createApp({
    config,
    kubeConfig: options.kubeConfig,
    logger: createLogger(options.log ? 'debug' : 'info', options.log ?? quiet),
    clock: options.clock,
    ...(options.checks ? { checks: options.checks } : {}),
  });
  await app.start();
  return app;
}

/** What the router's objects said at one moment of a release. */
export interface ObservedStep<R> {
  phase: string;
  canaryWeight: number;
  routes: R;
}

/**
 * Follows a release already started (the test changed the target) on a manual
 * clock: after each clock step it reads the Canary's phase and weight and, with
 * `read`, the routing objects as the API server holds them, and keeps every
 * distinct combination in order. Ends when the Canary reaches Succeeded or Failed
 * after having left them; bounded by `maxSteps`.
 */
export async function followRelease<R>(options: {
  app: App;
  clock: ManualClock;
  objects: k8s.KubernetesObjectApi;
  namespace: string;
  name: string;
  read: () => Promise<R>;
  stepMs?: number;
  maxSteps?: number;
}): Promise<ObservedStep<R>[]> {
  const seen: ObservedStep<R>[] = [];
  let started = false;
  await stepUntil(
    options.app,
    options.clock,
    `the release of ${options.namespace}/${options.name} to end`,
    async () => {
      const status = (await readCanary(options.objects, options.namespace, options.name)).status;
      const phase = status?.phase ?? '';
      const step = { phase, canaryWeight: status?.canaryWeight ?? 0, routes: await options.read() };
      const last = seen.at(-1);
      if (!last || JSON.stringify(last) !== JSON.stringify(step)) seen.push(step);
      const ended = phase === 'Succeeded' || phase === 'Failed';
      if (!ended) started = true;
      return started && ended ? true : undefined;
    },
    { stepMs: options.stepMs ?? 1_000, maxSteps: options.maxSteps ?? 400 },
  );
  return seen;
}

/** Reads any object by apiVersion, kind, namespace and name; undefined when it does not exist. */
export async function readObject<T = Record<string, any>>(
  objects: k8s.KubernetesObjectApi,
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  return (await objects
    .read({ apiVersion, kind, metadata: { name, namespace } })
    .catch((err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    })) as T | undefined;
}
