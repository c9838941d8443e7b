import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** A real HTTP proxy (Debian's tinyproxy) on loopback, for the alert providers' `proxy`. */
export interface Proxy {
  /** `http://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  /** `http://user:password@127.0.0.1:<port>` when started with basic auth. */
  readonly urlWithCredentials?: string;
  /** What tinyproxy logged: one line per connection and request at log level Connect. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts tinyproxy in the foreground on a free loopback port, allowing only loopback
 * clients, every CONNECT port (no ConnectPort line), and with `basicAuth`, requiring it.
 */
export async function startTinyproxy(
  options: { basicAuth?: { user: string; password: string } } = {},
): Promise<Proxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-tinyproxy-'));
  const port = await freePort();
  const logFile = path.join(dir, 'tinyproxy.log');
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    'MaxClients 32',
    'Allow 127.0.0.1',
    ...(options.basicAuth
      ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`]
      : []),
  ];
  const configFile = path.join(dir, 'tinyproxy.conf');
  writeFileSync(configFile, `${config.join('\n')}\n`);
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          if (child.exitCode !== null) throw new Error(`tinyproxy exited: ${stderr}`);
          const socket = connect(port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(undefined));
        }),
      { timeoutMs: 10_000, what: 'tinyproxy to listen' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const auth = options.basicAuth;
  return {
    url,
    ...(auth
      ? { urlWithCredentials: `http://${auth.user}:${auth.password}@127.0.0.1:${port}` }
      : {}),
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    stop,
  };
}
