import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stopChildren } from './children.js';
import { freePort } from './ports.js';
import { toolPath } from './tools.js';
import { waitFor } from './wait.js';

/** A real InfluxDB 1.8 on loopback, with Flux (`/api/v2/query`) and authentication on. */
export interface InfluxDB {
  readonly url: string;
  /** The database, whose Flux bucket is `<database>/autogen`. */
  readonly database: string;
  /** The Flux token of the admin user (`user:password`, as InfluxDB 1.8 takes it). */
  readonly token: string;
  /** Writes points in line protocol (`measurement,tag=v field=1 <ns>`). */
  write(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts influxd (InfluxDB 1.8, built from its Go module by hack/build-tools.sh) with its
 * data in a temporary folder, HTTP and RPC bound to 127.0.0.1, Flux enabled and
 * authentication required; creates the admin user and one database; stops on `stop`.
 */
export async function startInfluxDB(database = 'weir'): Promise<InfluxDB> {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-influxdb-'));
  const [http, rpc] = await Promise.all([freePort(), freePort()]);
  const config = path.join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${path.join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${path.join(dir, 'data')}"`,
      `  wal-dir = "${path.join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${http}"`,
      '  auth-enabled = true',
      '  flux-enabled = true',
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[subscriber]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const child = spawn(toolPath('influxd'), ['run', '-config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(path.join(dir, 'influxd.log'));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const stop = async () => {
    await stopChildren([child]);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${http}`;
  const password = 'weir-admin-password';
  const token = `admin:${password}`;
  const influxql = async (q: string, auth = true) => {
    const res = await fetch(`${url}/query`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(auth ? { Authorization: `Token ${token}` } : {}),
      },
      body: new URLSearchParams({ q }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok || text.includes('"error"')) throw new Error(`InfluxQL ${q}: ${text}`);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error('influxd exited at start');
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2_000) }).catch(
          () => undefined,
        );
        return res?.status === 204 ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'InfluxDB to answer /ping' },
    );
    // With authentication on and no user yet, InfluxDB takes this one statement unauthenticated.
    await influxql(`CREATE USER admin WITH PASSWORD '${password}' WITH ALL PRIVILEGES`, false);
    await influxql(`CREATE DATABASE ${database}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    database,
    token,
    async write(lines) {
      const res = await fetch(`${url}/write?db=${database}&precision=ns`, {
        method: 'POST',
        headers: { Authorization: `Token ${token}` },
        body: lines.join('\n'),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 204) throw new Error(`InfluxDB write: ${res.status} ${await res.text()}`);
    },
    stop,
  };
}
