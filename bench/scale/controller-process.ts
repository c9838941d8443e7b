import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The controller under test, running as a child process of the bench. */
export interface ControllerProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Set once the process has exited, with how. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The default command: Weir from this checkout, through tsx or built as it ships
 * (`script` is then the controller's bundle), with Weir's flags and placeholders.
 * `nodeFlags` go before the script (e.g. --cpu-prof).
 */
export function defaultControllerArgv(
  nodeFlags: string[],
  extra: string[],
  script?: string,
): string[] {
  return [
    process.execPath,
    ...nodeFlags,
    ...(script ? [script] : ['--import', 'tsx', 'src/main.ts']),
    '--kubeconfig',
    '{kubeconfig}',
    '--metrics-server',
    '{prometheus}',
    '--metrics-bind-address',
    '127.0.0.1:{metricsPort}',
    '--health-probe-bind-address',
    '127.0.0.1:{probePort}',
    ...extra,
  ];
}

/**
 * Builds Weir as it ships (`hack/build.ts`: the controller and CLI bundles) into
 * `outDir` and returns the path of the controller's bundle, with the Node flags the
 * image runs it with (its Dockerfile's ENTRYPOINT), so the bench measures what ships.
 */
export function compileController(
  repoRoot: string,
  outDir: string,
): { main: string; nodeFlags: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'hack/build.ts', '--out', outDir], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const main = path.join(outDir, 'weir-controller.mjs');
  if (r.status !== 0 || !existsSync(main))
    throw new Error(`Building Weir failed:\n${r.stdout}${r.stderr}`);
  return {
    main,
    nodeFlags: imageNodeFlags(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')),
  };
}

/** The flags between `node` and the script in a Dockerfile's exec-form ENTRYPOINT. */
export function imageNodeFlags(dockerfile: string): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const argv: unknown = line ? JSON.parse(line) : undefined;
  if (!Array.isArray(argv) || argv[0] !== 'node' || !argv.every((a) => typeof a === 'string'))
    throw new Error('The Dockerfile has no ENTRYPOINT ["node", ...] to take the flags from');
  return (argv as string[]).slice(1).filter((a) => a.startsWith('-'));
}

/** Starts `argv` (no shell) with stdout and stderr appended to `logFile`. */
export async function startControllerProcess(options: {
  argv: string[];
  logFile: string;
  cwd: string;
}): Promise<ControllerProcess> {
  const [cmd, ...args] = options.argv;
  if (!cmd) throw new Error('The controller command is empty');
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  live.add(child);
  let exit: ControllerProcess['exit'];
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      live.delete(child);
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(
        new Error(`Could not start the controller (${options.argv.join(' ')}): ${err.message}`),
      ),
    );
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    argv: options.argv,
    get exit() {
      return exit;
    },
    signal: (sig) => void child.kill(sig),
    stop: (graceMs = 30_000) =>
      (stopping ??= (async () => {
        if (!exit) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(killer);
        }
        await new Promise<void>((r) => log.end(r));
      })()),
  };
}
