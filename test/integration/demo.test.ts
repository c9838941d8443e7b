import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownerLabel } from '../harness/runtime.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';

// The README's first command ends in hack/demo.ts; this runs it as a user would,
// presses Ctrl-C (SIGINT) once it is ready, and checks nothing is left behind.
describe('main-job command', () => {
  it('brings the cluster up, prints how to reach it, and stops cleanly on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'hack/demo.ts')],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so a failed test can stop the demo and the controller it started.
        detached: true,
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      await waitFor(async () => (output.includes('weir-demo: ready') ? true : undefined), {
        timeoutMs: 120_000,
        what: `the demo to print "ready"; output so far:\n${output}`,
      });
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(output)?.[1];
      const prometheusUrl = /Prometheus\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      expect(kubeconfig, output).toMatch(/admin\.kubeconfig$/);
      expect(prometheusUrl, output).toBeDefined();
      expect((await fetch(`${prometheusUrl}/-/ready`)).ok).toBe(true);
      // The gateway (Traefik) answers: 404 until the story's first release is routed.
      const gatewayUrl = /Gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      expect(gatewayUrl, output).toBeDefined();
      expect([200, 404, 503]).toContain((await fetch(`${gatewayUrl}/`)).status);
      // The dashboard is live (and read-only): its API answers, its page is served.
      const dashboardUrl = /Dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
      expect(dashboardUrl, output).toBeDefined();
      const rows = await fetch(`${dashboardUrl}api/canaries`);
      expect(rows.status).toBe(200);
      expect(Array.isArray(await rows.json())).toBe(true);
      const page = await fetch(dashboardUrl!);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('stopped; nothing left running');
      await expect(fetch(`${prometheusUrl}/-/ready`)).rejects.toThrow();
      await expect(fetch(`${gatewayUrl}/`)).rejects.toThrow();
      await expect(fetch(`${dashboardUrl}api/canaries`)).rejects.toThrow();
      if ((process.env.WEIR_HARNESS_RUNTIME ?? 'container') === 'container') {
        const left = execFileSync(
          'docker',
          ['ps', '-aq', '--filter', `label=${ownerLabel}=${child.pid}`],
          {
            encoding: 'utf8',
          },
        );
        expect(left.trim(), 'containers left by the demo').toBe('');
      }
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
