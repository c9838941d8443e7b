import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';
import { stopChildren } from './children.js';

/** A real Graphite on loopback: Debian's carbon-cache (ingest) and graphite-web (render API). */
export interface Graphite {
  /** graphite-web's URL: `${url}/render?target=…`. */
  readonly url: string;
  /** Sends points over carbon's plaintext protocol (`name value timestamp`), now by default. */
  send(points: { name: string; value: number; at?: number }[]): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's Python, where graphite-web and Django are installed (not a pyenv or venv one). */
const python = '/usr/bin/python3';

/**
 * Starts carbon-cache (1 s resolution, every point flushed at once) and graphite-web
 * (Django's server, its own settings in a temporary folder: nothing under /etc or /var
 * is read or written), both bound to 127.0.0.1, and stops both on `stop`.
 */
export async function startGraphite(): Promise<Graphite> {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-graphite-'));
  const whisper = path.join(dir, 'storage', 'whisper');
  mkdirSync(whisper, { recursive: true });
  mkdirSync(path.join(dir, 'log'));
  const [line, pickle, cacheQuery, web] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const carbonConf = path.join(dir, 'carbon.conf');
  writeFileSync(
    carbonConf,
    [
      '[cache]',
      `STORAGE_DIR = ${path.join(dir, 'storage')}`,
      `LOCAL_DATA_DIR = ${whisper}`,
      `LOG_DIR = ${path.join(dir, 'log')}`,
      `PID_DIR = ${dir}`,
      'ENABLE_LOGROTATION = False',
      'USER =',
      'MAX_CACHE_SIZE = inf',
      'MAX_UPDATES_PER_SECOND = 5000',
      'MAX_CREATES_PER_MINUTE = inf',
      'LINE_RECEIVER_INTERFACE = 127.0.0.1',
      `LINE_RECEIVER_PORT = ${line}`,
      'ENABLE_UDP_LISTENER = False',
      'PICKLE_RECEIVER_INTERFACE = 127.0.0.1',
      `PICKLE_RECEIVER_PORT = ${pickle}`,
      'CACHE_QUERY_INTERFACE = 127.0.0.1',
      `CACHE_QUERY_PORT = ${cacheQuery}`,
      'WHISPER_AUTOFLUSH = True',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'storage-schemas.conf'),
    '[default]\npattern = .*\nretentions = 1s:1h\n',
  );
  writeFileSync(
    path.join(dir, 'weir_graphite_settings.py'),
    [
      'from graphite.settings import *  # noqa',
      "SECRET_KEY = 'weir-tests-only'",
      `STORAGE_DIR = '${path.join(dir, 'storage')}'`,
      `WHISPER_DIR = '${whisper}'`,
      'STANDARD_DIRS = [WHISPER_DIR]',
      `LOG_DIR = '${path.join(dir, 'log')}'`,
      `INDEX_FILE = '${path.join(dir, 'storage', 'index')}'`,
      `DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': '${path.join(dir, 'graphite.db')}'}}`,
      `CARBONLINK_HOSTS = ['127.0.0.1:${cacheQuery}']`,
      "ALLOWED_HOSTS = ['127.0.0.1']",
      '',
    ].join('\n'),
  );
  const children: ChildProcess[] = [];
  const start = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(command, args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(path.join(dir, `${name}.log`));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    children.push(child);
  };
  const stop = async () => {
    await stopChildren(children.splice(0), 5_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${web}`;
  const send: Graphite['send'] = (points) =>
    new Promise((resolve, reject) => {
      const socket = connect(line, '127.0.0.1', () => {
        const now = Math.floor(Date.now() / 1000);
        socket.end(points.map((p) => `${p.name} ${p.value} ${p.at ?? now}\n`).join(''));
      });
      socket.once('error', reject);
      socket.once('close', () => resolve());
    });
  try {
    // carbon-cache in the foreground (--debug), its configuration in the temporary folder.
    start('carbon', '/usr/bin/carbon-cache', [`--config=${carbonConf}`, '--debug', 'start']);
    start(
      'graphite-web',
      python,
      [
        '-m',
        'django',
        'runserver',
        `127.0.0.1:${web}`,
        '--noreload',
        '--settings=weir_graphite_settings',
      ],
      { PYTHONPATH: dir },
    );
    await waitFor(
      async () => {
        const res = await fetch(`${url}/render?target=weir.none&format=json`, {
          signal: AbortSignal.timeout(2_000),
        }).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'graphite-web to render' },
    );
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          const socket = connect(line, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(undefined));
        }),
      { timeoutMs: 30_000, intervalMs: 250, what: 'carbon-cache to accept points' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, send, stop };
}
