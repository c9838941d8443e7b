import type * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import type { CanaryStatus } from '../../src/api/types.js';
import { createApp, type App, type AppDependencies } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { readCanary } from './weir.js';

/** The manual clock the in-process tests start from: a 10 s interval costs no real time. */
export function manualClock(start = '2026-11-22T10:00:00Z'): ManualClock {
  return new ManualClock(Date.parse(start));
}

/**
 * Weir built and started in this process, as `main.ts` would, on loopback ports
 * chosen by the OS and a silent logger. `flags` are added to the command line.
 */
export async function startInProcess(
  kubeConfig: k8s.KubeConfig,
  options: { clock: ManualClock; flags?: string[] } & Pick<
    AppDependencies,
    'checks' | 'webhookBackoff'
  >,
): Promise<App> {
  const config = parseConfig(
    [
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      ...(options.flags ?? []),
    ],
    {},
  )!;
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  const app = createApp({
    config,
    kubeConfig,
    logger: createLogger('info', quiet),
    clock: options.clock,
    ...(options.checks ? { checks: options.checks } : {}),
    ...(options.webhookBackoff ? { webhookBackoff: options.webhookBackoff } : {}),
  });
  await app.start();
  return app;
}

/** Reads of the Canaries of one namespace, as probes for `stepUntil`. */
export function canaryProbes(objects: () => k8s.KubernetesObjectApi, namespace: string) {
  // A Canary the controller has not seen yet has no status: read it as empty.
  const status = async (name: string): Promise<CanaryStatus> =>
    (await readCanary(objects(), namespace, name)).status ?? {};
  const phaseIs = (name: string, phase: string) => async () =>
    (await status(name)).phase === phase ? true : undefined;
  return { status, phaseIs };
}
