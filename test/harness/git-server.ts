import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** A Git server on loopback that speaks smart HTTP (clone, fetch and push), as Flux needs. */
export interface GitServer {
  /** The clone URL of a repository (created bare by `createRepo`). */
  url(repo: string): string;
  /** Creates an empty bare repository whose default branch is `main`. */
  createRepo(repo: string): string;
  /** Requests served so far, by service (`git-upload-pack`: fetches, `git-receive-pack`: pushes). */
  readonly requests: { service: string; at: number }[];
  /** Fault: from now on, accept connections and never answer (until `unstall`). */
  stall(): void;
  unstall(): void;
  stop(): Promise<void>;
}

const identity = ['-c', 'user.name=Weir Tests', '-c', 'user.email=tests@weir.invalid'];

/** Runs `git` in a directory with a fixed identity; returns its trimmed output. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', [...identity, ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/**
 * Runs `git` without blocking the event loop: needed for anything that talks to a
 * {@link GitServer} in the same process (a synchronous push would wait for itself).
 */
export async function gitAsync(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('git', [...identity, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return stdout.trim();
}

const maxRequestBytes = 64 * 1024 * 1024;

/**
 * Starts Git's own `git http-backend` (CGI) behind a small HTTP server on
 * 127.0.0.1. Every repository under its root is exported and accepts pushes
 * (there is no authentication: it listens on loopback only, for tests and the demo).
 */
export async function startGitServer(): Promise<GitServer> {
  const root = mkdtempSync(path.join(tmpdir(), 'weir-git-'));
  const requests: { service: string; at: number }[] = [];
  const children = new Set<ReturnType<typeof spawn>>();
  const started = Date.now();

  let stalled = false;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // Stalled: the request is read and left unanswered; stop() closes it.
    if (stalled) return void req.resume();
    const url = new URL(req.url ?? '/', 'http://git.local');
    const service =
      url.searchParams.get('service') ??
      (url.pathname.endsWith('/git-receive-pack')
        ? 'git-receive-pack'
        : url.pathname.endsWith('/git-upload-pack')
          ? 'git-upload-pack'
          : 'other');
    requests.push({ service, at: Date.now() - started });
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        // http-backend only allows pushes from an authenticated user.
        REMOTE_USER: 'weir-tests',
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
          : {}),
        ...(req.headers['git-protocol']
          ? { GIT_PROTOCOL: String(req.headers['git-protocol']) }
          : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxRequestBytes) {
        child.kill('SIGKILL');
        req.destroy();
      }
    });
    req.pipe(child.stdin!).on('error', () => undefined);

    // CGI output: headers, a blank line, then the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.stdout!.on('end', () => {
      if (!headersDone) res.writeHead(502).end('git http-backend gave no answer');
      else res.end();
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (repo) => `http://127.0.0.1:${port}/${repo}.git`,
    createRepo(repo) {
      const dir = path.join(root, `${repo}.git`);
      mkdirSync(dir, { recursive: true });
      git(dir, 'init', '-q', '--bare', '-b', 'main');
      return dir;
    },
    requests,
    stall: () => void (stalled = true),
    unstall: () => void (stalled = false),
    stop: async () => {
      for (const c of children) c.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A working copy of a repository on a Git server, to commit and push the way a team does. */
export class WorkingCopy {
  readonly dir: string;

  constructor(
    remote: string,
    private readonly branch = 'main',
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'weir-wc-'));
    git(this.dir, 'init', '-q', '-b', branch);
    git(this.dir, 'remote', 'add', 'origin', remote);
  }

  /** Commits everything in the working copy and pushes it; returns the commit's full SHA. */
  async commitAndPush(message: string): Promise<string> {
    git(this.dir, 'add', '-A');
    git(this.dir, 'commit', '-q', '--allow-empty', '-m', message);
    return this.push();
  }

  /** Pushes the branch; returns the pushed commit's full SHA. */
  async push(): Promise<string> {
    await gitAsync(this.dir, 'push', '-q', 'origin', `HEAD:${this.branch}`);
    return git(this.dir, 'rev-parse', 'HEAD');
  }

  /** Runs any git command in the working copy (e.g. `revert`). */
  git(...args: string[]): string {
    return git(this.dir, ...args);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
