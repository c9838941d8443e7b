/**
 * Flagger as a comparison controller for the benchmarks: where the binary and
 * its CRDs are (built by hack/build-flagger.sh, outside the test path), the
 * command that starts it against a local cluster, and a child-process wrapper.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Cluster } from '../test/harness/cluster.js';
import { repoRoot } from '../test/harness/tools.js';

/** Builds Flagger if it is not cached yet (about 1.5 min cold) and returns its dir. */
export function flaggerDir(): string {
  return execFileSync('bash', [path.join(repoRoot, 'hack/build-flagger.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .at(-1)!;
}

/**
 * Flagger's start command with `{kubeconfig}` and `{prometheus}` placeholders.
 * - `gatewayapi:v1` is the router for `gateway.networking.k8s.io/v1` HTTPRoutes. Plain
 *   `gatewayapi` is NOT an alias in Flagger: it falls through to the Istio router. A
 *   Canary's `spec.provider` overrides this flag, so the workload must say
 *   `gatewayapi:v1` (Weir accepts it too) or leave the field out;
 * - `-metrics-server` is only used for built-in metrics; MetricTemplates carry their
 *   own Prometheus address, so the workload must put the same URL in each template;
 * - `-port=0`: Flagger's /metrics and /healthz listen on `:<port>` (all interfaces,
 *   no host flag); 0 lets the kernel pick, so runs never clash on 8080;
 * - leader election is off by default; stated so the command reads as it runs.
 */
export const flaggerCommandTemplate = (dir: string): string =>
  [
    path.join(dir, 'bin', 'flagger'),
    '-kubeconfig={kubeconfig}',
    '-mesh-provider=gatewayapi:v1',
    '-metrics-server={prometheus}',
    '-enable-leader-election=false',
    '-log-level=info',
    '-port=0',
  ].join(' ');

/** Fills the `{kubeconfig}` and `{prometheus}` placeholders and splits on spaces. */
export function fillCommand(
  template: string,
  values: { kubeconfig: string; prometheus: string },
): string[] {
  return template
    .replaceAll('{kubeconfig}', values.kubeconfig)
    .replaceAll('{prometheus}', values.prometheus)
    .split(/\s+/)
    .filter(Boolean);
}

/** Installs Flagger's CRDs (group flagger.app) and waits until they are served. */
export async function installFlaggerCrds(cluster: Cluster, dir: string): Promise<void> {
  const file = path.join(dir, 'crds', 'flagger.yaml');
  await cluster.kubectl(['apply', '--server-side', '-f', file]);
  await cluster.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/canaries.flagger.app',
    'crd/metrictemplates.flagger.app',
    'crd/alertproviders.flagger.app',
  ]);
}

/** A controller running as a child process of this script. */
export interface ControllerProcess {
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Starts `argv` with stdout and stderr appended to `logFile`. */
export function startControllerProcess(argv: string[], logFile: string): ControllerProcess {
  const [bin, ...args] = argv;
  if (!bin) throw new Error('empty controller command');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}
