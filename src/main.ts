import * as k8s from '@kubernetes/client-node';
import { createApp } from './app.js';
import { parseConfig, usage } from './config.js';
import { WeirError } from './errors.js';
import { createLogger } from './logger.js';
import { realClock, scaledClock } from './util/clock.js';

/** Process entry point: parse configuration, build the app, handle signals. */
async function main(): Promise<number> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`weir-controller: ${(err as Error).message}`);
    return 2;
  }
  if (!config) {
    process.stdout.write(usage);
    return 0;
  }
  const logger = createLogger(config.logLevel);
  const kubeConfig = new k8s.KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();

  // Test-only: the restart test runs releases in accelerated time across processes.
  const scale = Number(process.env.WEIR_TEST_TIME_SCALE ?? '1');
  const epoch = Number(process.env.WEIR_TEST_TIME_EPOCH ?? '0');
  const clock = scale > 1 && epoch > 0 ? scaledClock(scale, epoch) : realClock;
  if (clock !== realClock)
    logger.warn(
      { scale },
      'Time runs faster than the wall clock (WEIR_TEST_TIME_SCALE): for tests only',
    );
  let lostLeadership = false;
  const app = createApp({
    config,
    kubeConfig,
    logger,
    clock,
    version: process.env.WEIR_VERSION ?? 'dev',
    ...(process.env.POD_NAME ? { identity: `${process.env.POD_NAME}_${process.pid}` } : {}),
    // Leadership lost (could not renew in time): exit, so Kubernetes restarts this replica as a standby.
    onLostLeadership: () => {
      lostLeadership = true;
      process.kill(process.pid, 'SIGTERM');
      // Out before the next leader's lease could be in doubt, even if shutdown hangs.
      setTimeout(() => process.exit(1), 5_000).unref();
    },
  });
  // Resolves once a signal has stopped the app: in-flight work finishes first.
  const stopped = new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'Shutting down');
      void app.stop().then(resolve);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

  try {
    await app.start();
  } catch (err) {
    const code = err instanceof WeirError ? err.code : 'Unexpected';
    logger.error({ err, code }, 'Controller failed to start');
    await app.stop();
    return 1;
  }
  await stopped;
  return lostLeadership ? 1 : 0;
}

process.exitCode = await main();
