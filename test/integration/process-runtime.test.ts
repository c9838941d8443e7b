import { describe, expect, it } from 'vitest';
import { startCluster } from '../harness/cluster.js';
import { selectRuntime } from '../harness/runtime.js';

// The fallback behind the same harness interface: the same binaries as child
// processes, for machines where no Docker engine can run.
describe('process runtime', () => {
  it('starts the same control plane as child processes and stops it', async () => {
    const cluster = await startCluster({
      nodes: 1,
      routerCrds: false,
      runtime: selectRuntime('process'),
    });
    try {
      expect(cluster.runtime).toBe('process');
      expect(await cluster.kubectl(['get', 'nodes', '-o', 'name'])).toBe('node/kwok-node-0\n');
    } finally {
      await cluster.stop();
    }
    await expect(cluster.kubectl(['get', 'nodes', '--request-timeout=2s'])).rejects.toThrow();
  });
});
