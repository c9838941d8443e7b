import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports.js';
import { repoRoot } from './tools.js';
import { waitFor } from './wait.js';

/** Options for {@link ControllerProcess}. */
export interface ControllerProcessOptions {
  kubeconfig: string;
  /** The replica's name (POD_NAME: leader-election identity and User-Agent). */
  name?: string;
  /** Extra flags for the controller (e.g. leader election). */
  args?: string[];
  /**
   * Simulated time: `scale` times faster than the wall clock from `epoch`, shared by
   * every process of a test so that a replacement agrees on what time it is.
   */
  time?: { scale: number; epoch: number };
  logLevel?: string;
}

/**
 * Weir's controller as a real process (`src/main.ts`), started, killed with any
 * signal and started again. Every process started is remembered, so `stop()`
 * leaves none behind even after a failed start.
 */
export class ControllerProcess {
  private child: ChildProcess | undefined;
  private readonly all: ChildProcess[] = [];
  metricsPort = 0;
  /** The last 20,000 characters the current process and its predecessors printed. */
  log = '';

  constructor(private readonly options: ControllerProcessOptions) {}

  get name(): string | undefined {
    return this.options.name;
  }

  /** True while the current process runs. */
  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  /** Starts a process and resolves once its /readyz answers 200 (bounded: 60 s). */
  async start(): Promise<void> {
    const probe = await freePort();
    this.metricsPort = await freePort();
    const { time, name } = this.options;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'src/main.ts'),
        `--kubeconfig=${this.options.kubeconfig}`,
        `--metrics-bind-address=127.0.0.1:${this.metricsPort}`,
        `--health-probe-bind-address=127.0.0.1:${probe}`,
        `--log-level=${this.options.logLevel ?? 'warn'}`,
        ...(this.options.args ?? []),
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...(name ? { POD_NAME: name } : {}),
          ...(time
            ? { WEIR_TEST_TIME_SCALE: String(time.scale), WEIR_TEST_TIME_EPOCH: String(time.epoch) }
            : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.all.push(child);
    const keep = (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let started = false;
    const died = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => {
        if (!started)
          reject(
            new Error(
              `The controller${name ? ` ${name}` : ''} exited during start-up (${signal ?? code}); its output:\n${this.log.slice(-4_000)}`,
            ),
          );
      }),
    );
    died.catch(() => undefined);
    await Promise.race([
      waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.ok
            ? true
            : undefined,
        {
          timeoutMs: 60_000,
          intervalMs: 50,
          what: `the controller${name ? ` ${name}` : ''} to be ready`,
        },
      ),
      died,
    ]);
    started = true;
  }

  /** Sends `signal` to the current process and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Resolves when the current process exits on its own (bounded by `timeoutMs`). */
  async exited(timeoutMs: number): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    return Promise.race([
      new Promise<number | null>((r) => child.once('exit', (code) => r(code))),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  }

  /** How many reconciles the current process has run (from its /metrics). */
  async reconciles(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    return Number(/^weir_reconcile_duration_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
  }

  /** Kills every process this object started. */
  async stop(): Promise<void> {
    await this.kill();
    for (const p of this.all) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
