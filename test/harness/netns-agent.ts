/**
 * Runs inside the data plane's network namespace (started by netns.ts through
 * `unshare -n`): brings loopback up with the pod network on it, then, on the
 * parent's IPC messages, starts processes in the namespace and relays TCP
 * between it and the host over Unix sockets (a Unix socket path is reachable
 * from both sides; an address is not).
 *
 * Every process it starts gets SIGKILL when the agent dies (setpriv --pdeathsig),
 * and the agent stops everything when its parent goes away, so a crashed test
 * leaves nothing behind: the namespace disappears with its last process.
 *
 * Plain Node with erasable types only: it runs without a loader.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

type Message =
  | {
      type: 'spawn';
      id: string;
      command: string;
      args: string[];
      env: Record<string, string>;
      logFile: string;
    }
  | { type: 'signal'; id: string; signal: NodeJS.Signals }
  | { type: 'relay-out'; id: string; host: string; port: number; unixPath: string }
  | { type: 'relay-in'; id: string; unixPath: string; host: string; port: number }
  | { type: 'http-get'; id: string; url: string; timeoutMs: number }
  | { type: 'stop' };

const send = (m: Record<string, unknown>) => {
  if (process.connected) process.send?.(m);
};
const cidr = process.argv[2];
const children = new Map<string, ChildProcess>();
const servers: Server[] = [];
const sockets = new Set<Socket>();

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`ip ${args.join(' ')} failed: ${r.stderr || r.error?.message || r.status}`);
}

/** Pipes two sockets both ways; either end closing closes the other. */
function pipe(a: Socket, b: Socket): void {
  sockets.add(a).add(b);
  a.pipe(b).on('error', () => b.destroy());
  b.pipe(a).on('error', () => a.destroy());
  const end = () => {
    a.destroy();
    b.destroy();
    sockets.delete(a);
    sockets.delete(b);
  };
  a.on('close', end).on('error', end);
  b.on('close', end).on('error', end);
}

function listen(id: string, server: Server, at: string | { host: string; port: number }): void {
  servers.push(server);
  server.once('error', (err) => send({ type: 'error', id, message: err.message }));
  const done = () => send({ type: 'listening', id });
  if (typeof at === 'string') server.listen(at, done);
  else server.listen(at.port, at.host, done);
}

let stopping = false;
async function stopAll(graceMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = [...children.values()]
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map(
      (c) =>
        new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    );
  const timer = setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL');
  }, graceMs);
  await Promise.all(exits);
  clearTimeout(timer);
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  process.exit(0);
}

function handle(m: Message): void {
  switch (m.type) {
    case 'spawn': {
      const fd = openSync(m.logFile, 'a');
      // setpriv: the process dies with the agent even when the agent is killed outright.
      const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', m.command, ...m.args], {
        env: m.env,
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      children.set(m.id, child);
      child.once('spawn', () => send({ type: 'spawned', id: m.id, pid: child.pid }));
      child.once('error', (err) => {
        send({ type: 'error', id: m.id, message: err.message });
        send({ type: 'exited', id: m.id, error: err.message });
      });
      child.once('exit', (code, signal) => send({ type: 'exited', id: m.id, code, signal }));
      return;
    }
    case 'signal':
      children.get(m.id)?.kill(m.signal);
      return;
    case 'relay-out':
      // In the namespace host:port → the host's Unix socket (which reaches a host address).
      listen(
        m.id,
        createServer((s) => pipe(s, connect(m.unixPath))),
        { host: m.host, port: m.port },
      );
      return;
    case 'relay-in':
      // The host connects to this Unix socket → host:port in the namespace.
      rmSync(m.unixPath, { force: true });
      listen(
        m.id,
        createServer((s) => pipe(s, connect(m.port, m.host))),
        m.unixPath,
      );
      return;
    case 'http-get':
      // A probe from inside the namespace (a kubelet's readiness probe reaches pod IPs).
      fetch(m.url, { signal: AbortSignal.timeout(m.timeoutMs) })
        .then(async (r) => {
          await r.arrayBuffer();
          send({ type: 'answer', id: m.id, status: r.status });
        })
        .catch((err: Error) => send({ type: 'answer', id: m.id, status: 0, message: err.message }));
      return;
    case 'stop':
      void stopAll(5_000);
      return;
  }
}

try {
  ip(['link', 'set', 'lo', 'up']);
  if (cidr) ip(['addr', 'add', cidr, 'dev', 'lo']);
} catch (err) {
  send({ type: 'failed', message: (err as Error).message });
  process.exit(1);
}
process.on('message', (m) => handle(m as Message));
// The parent went away (crashed or killed): nothing here may outlive it.
process.on('disconnect', () => void stopAll(1_000));
process.on('SIGTERM', () => void stopAll(5_000));
send({ type: 'ready' });
