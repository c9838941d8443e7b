/**
 * `weir dashboard`: the live web dashboard on the user's kubeconfig, bound to
 * loopback on a free port (docs/adr/0022-dashboard.md). Runs until SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../logger.js';
import { pageAssets } from '../dashboard/ui/bundle.js';
import { UsageError } from './usage-error.js';

export const dashboardUsage = `Usage: weir dashboard [--kubeconfig path] [--context name] [-n namespace]...
                      [--address 127.0.0.1] [--port 0] [--allowed-host host]... [--read-only]

Serves a live view of the Canaries and their releases, with promote, abort, retry and
approve where your RBAC allows them, at http://<address>:<port>/ (a free port by default).

  -n, --namespace NS     Watch only this namespace (repeatable); all namespaces by default.
  --address ADDR         Address to bind (default 127.0.0.1).
  --port PORT            Port to bind (default 0: one the system chooses).
  --allowed-host HOST    Also answer requests for HOST (host or host:port; repeatable), e.g.
                         behind a port-forward or an ingress under another name. Any other
                         Host header is refused, which stops DNS rebinding.
  --read-only            Offer no action and refuse every write.
`;

/** Runs `weir dashboard` with `args`; resolves with the exit code once stopped by a signal. */
export async function dashboard(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n', multiple: true },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      address: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'allowed-host': { type: 'string', multiple: true },
      'read-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(dashboardUsage);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('weir dashboard takes no arguments');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port: expected a port number (0 to 65535), got "${values.port}"`);
  // Loaded only here: the Kubernetes client and the page's bundler are heavy.
  const { resolveTarget } = await import('./kube-commands.js');
  const { startDashboard } = await import('../dashboard/server.js');
  const { kubeConfig } = resolveTarget({
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
  });
  const logger = createLogger('info', pino.destination(2));
  const running = await startDashboard({
    kubeConfig,
    address: values.address,
    port,
    namespaces: values.namespace ?? [],
    allowedHosts: values['allowed-host'] ?? [],
    readOnly: values['read-only'] ?? false,
    logger,
    assets: pageAssets,
  });
  process.stdout.write(`Weir dashboard: ${running.url}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'Stopping the dashboard');
  await running.close();
  return 0;
}
