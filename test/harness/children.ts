import type { ChildProcess } from 'node:child_process';

/** Stops child processes: SIGTERM, then SIGKILL after `graceMs`; resolves when all have exited. */
export function stopChildren(children: ChildProcess[], graceMs = 10_000): Promise<void> {
  return Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), graceMs).unref();
        }),
    ),
  ).then(() => undefined);
}
