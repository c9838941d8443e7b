import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNetworkNamespace, type NetworkNamespace } from '../harness/netns.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// The data plane's network namespace: pod IPs inside, the host reachable only through
// the ports it is given, and nothing left behind when the test run dies.
describe('the data plane network namespace', () => {
  let ns: NetworkNamespace | undefined;
  let host: Server | undefined;
  afterAll(async () => {
    await ns?.stop();
    host?.close();
  });

  it('binds pod IPs, reaches a given host port, and is reachable from the host only where exposed', async () => {
    host = createServer((_req, res) => res.end('from the host'));
    await new Promise<void>((r) => host!.listen(0, '127.0.0.1', r));
    const hostPort = (host.address() as { port: number }).port;
    ns = await startNetworkNamespace({ cidr: '10.244.0.0/16' });
    // Not given yet: the namespace's loopback has nothing on that port.
    expect(await ns.httpGet(`http://127.0.0.1:${hostPort}/`)).toBe(0);
    await ns.reachHost(hostPort);
    expect(await ns.httpGet(`http://127.0.0.1:${hostPort}/`)).toBe(200);

    const pod = await ns.spawn(
      process.execPath,
      [
        '-e',
        `require('http').createServer(async (q, r) => r.end('pod sees ' + await (await fetch('http://127.0.0.1:${hostPort}/')).text())).listen(8080, '10.244.3.7')`,
      ],
      { logFile: path.join(ns.dir, 'pod.log') },
    );
    await waitFor(
      async () => ((await ns!.httpGet('http://10.244.3.7:8080/')) === 200 ? true : undefined),
      { timeoutMs: 10_000, what: 'the pod process to listen on its pod IP' },
    );
    const port = await ns.expose('10.244.3.7', 8080);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('pod sees from the host');
    // The same process, as seen from the host: it runs on this machine, in another namespace.
    expect(alive(pod.pid)).toBe(true);
    await ns.stop();
    expect(alive(pod.pid)).toBe(false);
    ns = undefined;
  });

  it('leaves nothing running when the process that made it is killed outright', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'test/harness/netns-crash-child.ts')],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const pids = await waitFor(
      async () =>
        out.includes('\n') ? (JSON.parse(out) as { child: number; agents: number[] }) : undefined,
      { timeoutMs: 20_000, what: 'the crash child to start its namespace' },
    );
    expect(alive(pids.child)).toBe(true);
    child.kill('SIGKILL');
    await waitFor(
      async () => (!alive(pids.child) && pids.agents.every((p) => !alive(p)) ? true : undefined),
      { timeoutMs: 10_000, what: 'the agent and its process to die with their parent' },
    );
  });
});
