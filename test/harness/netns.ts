import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import type { ComponentRuntime, Running } from './runtime.js';
import { repoRoot } from './tools.js';

/** How a process started in the namespace ended. */
export interface Exit {
  code?: number | null;
  signal?: string | null;
  error?: string;
}

/** A process running inside the namespace. */
export interface NetnsProcess {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<Exit>;
}

/**
 * A network namespace of the harness's own, with the pod network on its
 * loopback: processes in it bind and reach pod IPs, and nothing in it can reach
 * any address outside but the host ports it is given.
 */
export interface NetworkNamespace {
  /** Scratch directory (Unix sockets, logs). */
  readonly dir: string;
  /** The agent's process id (the namespace lives while it and its processes do). */
  readonly agentPid: number;
  /** Makes the host's 127.0.0.1:port reachable at 127.0.0.1:port inside the namespace. */
  reachHost(port: number): Promise<void>;
  /** Makes host:port inside the namespace reachable from the host; returns the host port. */
  expose(host: string, port: number): Promise<number>;
  /** Starts a process inside the namespace; its output goes to `logFile`. */
  spawn(
    command: string,
    args: string[],
    options: { env?: Record<string, string>; logFile: string },
  ): Promise<NetnsProcess>;
  /** GET from inside the namespace; resolves with the status code, 0 when nothing answered. */
  httpGet(url: string, timeoutMs?: number): Promise<number>;
  /** Stops every process and relay; the namespace goes with them. */
  stop(): Promise<void>;
}

type Reply = {
  type: string;
  id?: string;
  message?: string;
  pid?: number;
  status?: number;
} & Exit;

/**
 * Creates the namespace with `unshare -n` and the agent inside it (netns-agent.ts).
 * Needs root (or CAP_SYS_ADMIN), util-linux and iproute2; fails with the reason otherwise.
 */
export async function startNetworkNamespace(options: {
  /** Address and prefix put on the namespace's loopback, e.g. the KWOK pod CIDR. */
  cidr: string;
}): Promise<NetworkNamespace> {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-ns-'));
  const agent: ChildProcess = spawn(
    'unshare',
    [
      '--net',
      '--',
      'setpriv',
      '--pdeathsig',
      'KILL',
      '--',
      process.execPath,
      path.join(repoRoot, 'test/harness/netns-agent.ts'),
      options.cidr,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const waiting = new Map<string, (r: Reply) => void>();
  const exits = new Map<string, (e: Exit) => void>();
  const hostServers: Server[] = [];
  const hostSockets = new Set<Socket>();
  const agentGone = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
  agent.on('message', (m: Reply) => {
    if (m.type === 'exited' && m.id) exits.get(m.id)?.(m);
    else if (m.id) waiting.get(m.id)?.(m);
    else waiting.get('')?.(m);
  });
  const request = (message: Record<string, unknown> & { id: string }): Promise<Reply> =>
    new Promise((resolve, reject) => {
      if (!agent.connected) return reject(new Error('the network namespace is stopped'));
      const timer = setTimeout(
        () => reject(new Error(`network namespace agent did not answer ${String(message.type)}`)),
        10_000,
      );
      waiting.set(message.id, (r) => {
        clearTimeout(timer);
        waiting.delete(message.id);
        if (r.type === 'error') reject(new Error(r.message));
        else resolve(r);
      });
      agent.send(message);
    });

  const stop = async () => {
    if (agent.exitCode === null && agent.signalCode === null && agent.connected)
      agent.send({ type: 'stop' });
    const timer = setTimeout(() => agent.kill('SIGKILL'), 10_000);
    await agentGone;
    clearTimeout(timer);
    for (const s of hostSockets) s.destroy();
    await Promise.all(hostServers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const first = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the network namespace agent did not start within 15 s')),
        15_000,
      );
      waiting.set('', (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      agent.once('error', (err) => reject(err));
      void agentGone.then(() =>
        reject(new Error(`unshare --net exited with ${agent.exitCode ?? agent.signalCode}`)),
      );
    });
    waiting.delete('');
    if (first.type !== 'ready') throw new Error(first.message ?? first.type);
  } catch (err) {
    await stop();
    throw new Error(
      `cannot create the data plane's network namespace: ${(err as Error).message}. ` +
        'It needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN), unshare and setpriv (util-linux) and ip ' +
        '(iproute2); hack/install-deps.sh installs the packages. Without it, run the tests that do not ' +
        'need a data plane (their routers are checked against the real API server and CRDs only).',
      { cause: err },
    );
  }

  const pipe = (a: Socket, b: Socket) => {
    hostSockets.add(a).add(b);
    a.pipe(b);
    b.pipe(a);
    const end = () => {
      a.destroy();
      b.destroy();
      hostSockets.delete(a);
      hostSockets.delete(b);
    };
    a.on('close', end).on('error', end);
    b.on('close', end).on('error', end);
  };
  const listening = (server: Server, at: string | number) =>
    new Promise<void>((resolve, reject) => {
      hostServers.push(server);
      server.once('error', reject);
      if (typeof at === 'string') server.listen(at, resolve);
      else server.listen(at, '127.0.0.1', resolve);
    });

  return {
    dir,
    agentPid: agent.pid!,
    async reachHost(port) {
      const unixPath = path.join(dir, `h${port}.sock`);
      await listening(
        createServer((s) => pipe(s, connect(port, '127.0.0.1'))),
        unixPath,
      );
      await request({ type: 'relay-out', id: randomUUID(), host: '127.0.0.1', port, unixPath });
    },
    async expose(host, port) {
      const unixPath = path.join(dir, `n-${host}-${port}.sock`);
      await request({ type: 'relay-in', id: randomUUID(), unixPath, host, port });
      const hostPort = await freePort();
      await listening(
        createServer((s) => pipe(s, connect(unixPath))),
        hostPort,
      );
      return hostPort;
    },
    async httpGet(url, timeoutMs = 1_000) {
      const r = await request({ type: 'http-get', id: randomUUID(), url, timeoutMs });
      return r.status ?? 0;
    },
    async spawn(command, args, { env = {}, logFile }) {
      const id = randomUUID();
      const exited = new Promise<Exit>((resolve) => exits.set(id, resolve));
      const r = await request({
        type: 'spawn',
        id,
        command,
        args,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
        logFile,
      });
      const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
        if (agent.connected) agent.send({ type: 'signal', id, signal });
      };
      let done = false;
      void exited.then(() => (done = true));
      return {
        pid: r.pid!,
        exited,
        kill,
        async stop(graceMs = 5_000) {
          if (done) return exited;
          kill('SIGTERM');
          const timer = setTimeout(() => kill('SIGKILL'), graceMs);
          const e = await exited;
          clearTimeout(timer);
          return e;
        },
      };
    },
    stop,
  };
}

/**
 * Runs harness components (Prometheus, say) as processes inside the namespace,
 * where they reach pod IPs; `reach` makes their ports reachable from the host.
 */
export function netnsRuntime(ns: NetworkNamespace): ComponentRuntime {
  return {
    kind: 'process',
    reach: (port) => ns.expose('127.0.0.1', port),
    async start(spec) {
      const spawnOne = () =>
        ns.spawn(spec.component.binary(), spec.args, { logFile: spec.logFile });
      let current = await spawnOne();
      let stopped: Promise<void> | undefined;
      const running: Running = {
        name: spec.component.name,
        get pid() {
          return current.pid;
        },
        stop: () =>
          (stopped ??= (async () => {
            current.kill('SIGCONT');
            await current.stop(5_000);
          })()),
        async pause() {
          current.kill('SIGSTOP');
        },
        async resume() {
          current.kill('SIGCONT');
        },
        async restart(downMs = 0) {
          if (stopped) throw new Error(`${spec.component.name} was stopped for good`);
          current.kill('SIGCONT');
          await current.stop(5_000);
          if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
          current = await spawnOne();
        },
      };
      return running;
    },
  };
}
