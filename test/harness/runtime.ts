import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { toolPath, versions } from './tools.js';

/** A real component the harness can run: a binary, or the same binary in an image. */
export interface Component {
  /** Short name, also the image name and the binary name. */
  name:
    | 'etcd'
    | 'kube-apiserver'
    | 'kube-controller-manager'
    | 'kube-scheduler'
    | 'kwok'
    | 'prometheus';
  /** Path of the binary on this machine, for the process runtime. */
  binary: () => string;
  /** Image to run, for the container runtime. */
  image: string;
  /** Path of the binary inside the image (the upstream images' path). */
  entrypoint: string;
}

function envName(name: string, suffix: string): string {
  return `WEIR_${name.toUpperCase().replace(/-/g, '_')}_${suffix}`;
}

function prometheusVersion(): string {
  const out = execFileSync('prometheus', ['--version'], { encoding: 'utf8' });
  // Image tags cannot hold '+', which Debian versions do (2.42.0+ds).
  return (/version (\S+)/.exec(out)?.[1] ?? 'unknown').replace(/\+/g, '-');
}

/**
 * Describes a component. The image defaults to the local one built by
 * hack/build-images.sh; `WEIR_<NAME>_IMAGE` and `WEIR_<NAME>_ENTRYPOINT` point the
 * harness at another image, for example upstream ones on a machine with a registry.
 */
export function component(name: Component['name']): Component {
  const defaults: Record<
    Component['name'],
    { version: () => string; entrypoint: string; binary: () => string }
  > = {
    etcd: {
      version: () => versions.etcd,
      entrypoint: '/usr/local/bin/etcd',
      binary: () => toolPath('etcd'),
    },
    'kube-apiserver': k8s('kube-apiserver'),
    'kube-controller-manager': k8s('kube-controller-manager'),
    'kube-scheduler': k8s('kube-scheduler'),
    kwok: {
      version: () => versions.kwok,
      entrypoint: '/usr/local/bin/kwok',
      binary: () => toolPath('kwok'),
    },
    prometheus: {
      version: prometheusVersion,
      entrypoint: '/bin/prometheus',
      binary: () => 'prometheus',
    },
  };
  const d = defaults[name];
  return {
    name,
    binary: d.binary,
    get image() {
      return process.env[envName(name, 'IMAGE')] ?? `weir.local/${name}:${d.version()}`;
    },
    entrypoint: process.env[envName(name, 'ENTRYPOINT')] ?? d.entrypoint,
  };

  function k8s(bin: string) {
    return {
      version: () => versions.kubernetes,
      entrypoint: `/usr/local/bin/${bin}`,
      binary: () => toolPath(bin),
    };
  }
}

/** What to run. Paths in `args` must lie under `shareDir`, which the container sees at the same path. */
export interface RunSpec {
  component: Component;
  args: string[];
  shareDir: string;
  /** Everything the component prints goes here. */
  logFile: string;
}

/** A started component. `stop()` is idempotent and waits until it is gone. */
export interface Running {
  readonly name: string;
  /** Process id on this machine (process runtime only), e.g. for reading /proc; changes on restart. */
  readonly pid?: number;
  /** Removes the component for good (and resumes it first if paused). */
  stop(): Promise<void>;
  /** Freezes the component (SIGSTOP, or `docker pause`): its sockets stay open and unanswered. */
  pause(): Promise<void>;
  /** Thaws a paused component. */
  resume(): Promise<void>;
  /** Stops the component, keeps it down for `downMs`, and starts it again with the same arguments. */
  restart(downMs?: number): Promise<void>;
}

/** How components are run: containers through testcontainers, or child processes. */
export interface ComponentRuntime {
  readonly kind: 'container' | 'process';
  start(spec: RunSpec): Promise<Running>;
  /**
   * For a runtime whose loopback is not the host's (a network namespace): makes the
   * component's 127.0.0.1:port reachable from the host and returns the host port.
   */
  reach?(port: number): Promise<number>;
}

/** Label on every container the harness starts, valued with the owning process id. */
export const ownerLabel = 'dev.weir.harness.owner';

class ContainerRuntime implements ComponentRuntime {
  readonly kind = 'container' as const;

  async start(spec: RunSpec): Promise<Running> {
    // Ryuk (testcontainers' reaper) is an image from a registry; the harness reaps
    // its own containers by label instead (see reapOrphans).
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    // Containers share the host's network, so they are reached on loopback; without
    // this, testcontainers looks for a bridge network that our dockerd does not have.
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
    const { GenericContainer } = await import('testcontainers');
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const container = await new GenericContainer(spec.component.image)
      .withNetworkMode('host')
      .withEntrypoint([spec.component.entrypoint])
      .withCommand(spec.args)
      .withUser(`${uid}:${gid}`)
      .withBindMounts([{ source: spec.shareDir, target: spec.shareDir, mode: 'rw' }])
      .withLabels({
        [ownerLabel]: String(process.pid),
        'dev.weir.harness.component': spec.component.name,
      })
      .withPullPolicy({ shouldPull: () => false })
      .withLogConsumer((stream) => stream.pipe(log))
      .start();
    let stopped: Promise<void> | undefined;
    let paused = false;
    const docker = (verb: string) =>
      execFileSync('docker', [verb, container.getId()], { stdio: 'ignore' });
    return {
      name: spec.component.name,
      stop: () =>
        (stopped ??= (async () => {
          if (paused) docker('unpause');
          await container.stop({ timeout: 5_000, remove: true });
        })().finally(() => log.end())),
      async pause() {
        docker('pause');
        paused = true;
      },
      async resume() {
        if (paused) docker('unpause');
        paused = false;
      },
      async restart(downMs = 0) {
        if (paused) docker('unpause');
        paused = false;
        // Same container, same data and arguments: what a crashed and restarted component sees.
        execFileSync('docker', ['stop', '-t', '5', container.getId()], { stdio: 'ignore' });
        if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
        docker('start');
      },
    };
  }
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

class ProcessRuntime implements ComponentRuntime {
  readonly kind = 'process' as const;

  async start(spec: RunSpec): Promise<Running> {
    const log: WriteStream = createWriteStream(spec.logFile, { flags: 'a' });
    const spawnOne = async () => {
      const child = spawn(spec.component.binary(), spec.args, {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
      liveChildren.add(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      return { child, exited };
    };
    const end = async ({ child, exited }: Awaited<ReturnType<typeof spawnOne>>) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      liveChildren.delete(child);
    };
    let current = await spawnOne();
    let stopped: Promise<void> | undefined;
    return {
      name: spec.component.name,
      get pid() {
        return current.child.pid;
      },
      stop: () =>
        (stopped ??= (async () => {
          await end(current);
          log.end();
        })()),
      async pause() {
        current.child.kill('SIGSTOP');
      },
      async resume() {
        current.child.kill('SIGCONT');
      },
      async restart(downMs = 0) {
        if (stopped) throw new Error(`${spec.component.name} was stopped for good`);
        await end(current);
        if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
        current = await spawnOne();
      },
    };
  }
}

/**
 * The runtime chosen by `WEIR_HARNESS_RUNTIME` (`container`, the default, or
 * `process`). Both run the same binaries with the same arguments.
 */
export function selectRuntime(
  kind = process.env.WEIR_HARNESS_RUNTIME ?? 'container',
): ComponentRuntime {
  if (kind === 'container') return new ContainerRuntime();
  if (kind === 'process') return new ProcessRuntime();
  throw new Error(`WEIR_HARNESS_RUNTIME must be "container" or "process", got "${kind}"`);
}

/**
 * Removes harness containers whose owning process is gone (a test run that was
 * killed before it could clean up). Safe while other runs are alive.
 */
export function reapOrphans(): number {
  let out: string;
  try {
    out = execFileSync(
      'docker',
      [
        'ps',
        '-a',
        '--filter',
        `label=${ownerLabel}`,
        '--format',
        `{{.ID}} {{.Label "${ownerLabel}"}}`,
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
  } catch {
    return 0; // no engine: nothing of ours can be running in it
  }
  const orphans = out
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([id, pid]) => id && pid && !isAlive(Number(pid)))
    .map(([id]) => id!);
  if (orphans.length > 0) execFileSync('docker', ['rm', '-f', ...orphans], { stdio: 'ignore' });
  return orphans.length;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
