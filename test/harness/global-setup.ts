import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { reapOrphans } from './runtime.js';
import { repoRoot, toolsDir } from './tools.js';

/**
 * Runs once before the integration suite: builds the Go tools and (for the
 * container runtime) the local images if they are missing, and removes containers
 * left behind by runs that were killed. Both steps are no-ops when cached.
 */
export default function setup(): () => void {
  const tools = toolsDir();
  if ((process.env.WEIR_HARNESS_RUNTIME ?? 'container') === 'container') {
    try {
      execFileSync('docker', ['info'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        'No Docker engine is reachable for the container runtime. Run the suite through ' +
          'hack/test.sh (it starts dockerd), export DOCKER_HOST, or set WEIR_HARNESS_RUNTIME=process.',
      );
    }
    const reaped = reapOrphans();
    if (reaped > 0) console.log(`harness: removed ${reaped} container(s) left by killed runs`);
    execFileSync('bash', [path.join(repoRoot, 'hack/build-images.sh'), tools], {
      stdio: 'inherit',
    });
  }
  return () => {
    reapOrphans();
  };
}
