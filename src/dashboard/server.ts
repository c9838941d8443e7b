/**
 * The dashboard's HTTP server (node:http): the page, its JSON API, a server-sent
 * event stream per page, and the actions as POSTs. Strict by default: see
 * docs/adr/0022-dashboard.md and ./guard.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { manualActions, type ManualAction } from '../api/manual-actions.js';
import { controllerKubeConfig } from '../kube/kube-config.js';
import { kubeActions, readOnlyActions, type DashboardActions } from './access.js';
import { hostAllowed, ownHosts, securityHeaders, writeRefusal } from './guard.js';
import { createHub, TooManySubscribers, type DashboardSources, type Follow } from './hub.js';
import type { StreamMessage } from './model.js';
import { createSources } from './sources.js';

/** The page's script and stylesheet (built by src/dashboard/ui/bundle.ts). */
export interface DashboardAssets {
  'app.js': string;
  'app.css': string;
}

/** Options for {@link startDashboard}. */
export interface DashboardOptions {
  /** Whose RBAC applies: the user's kubeconfig, or the chart's ServiceAccount. Unused with `sources` and `actions`. */
  kubeConfig?: k8s.KubeConfig;
  /** Address to bind (default 127.0.0.1). */
  address?: string;
  /** Port to bind; 0 (the default) lets the OS choose. */
  port?: number;
  /** Watch only these namespaces; all when empty. */
  namespaces?: readonly string[];
  /** Further Host headers to answer (`--allowed-host`), e.g. behind an ingress. */
  allowedHosts?: readonly string[];
  /** Offer no action and refuse every POST. */
  readOnly?: boolean;
  logger: Logger;
  /** The page's assets, or a function building them (called once, at start). */
  assets: DashboardAssets | (() => Promise<DashboardAssets>);
  /** What to watch instead of the four informers on `kubeConfig` (tests). */
  sources?: DashboardSources;
  /** Actions to take instead of the kubeconfig's (tests). */
  actions?: DashboardActions;
  /** Between two heartbeat comments on a stream (default 15 s). */
  heartbeatMs?: number;
  /** Pages open at once; more are answered 503 (default 200). */
  maxPages?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** Where it serves, e.g. `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** Ends every stream, stops the watches and the server. */
  close(): Promise<void>;
}

/** The User-Agent of the dashboard's API requests (the API server's audit log names it). */
export const dashboardUserAgent = 'weir-dashboard';

/** The page: a shell that loads the script and the stylesheet (no inline code: see the CSP). */
export const pageShell = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weir</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Weir dashboard needs JavaScript.</noscript>
</body>
</html>
`;

/** A stream whose page reads slower than this many bytes behind is ended (it reconnects). */
const maxBufferedBytes = 1 << 20;
/** The largest POST body read (actions carry none). */
const maxBodyBytes = 4096;

const name = '[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?';
const canaryPath = new RegExp(`^/api/canaries/(${name})/(${name})$`);
const actionPath = new RegExp(`^/api/canaries/(${name})/(${name})/actions/([a-z]+)$`);
const pagePath = new RegExp(`^/canaries/${name}/${name}$`);
const followParam = new RegExp(`^(${name})/(${name})$`);

/** Starts the dashboard: watches first, then the server; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { logger } = options;
  const address = options.address ?? '127.0.0.1';
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  let client: k8s.KubeConfig | undefined;
  const kubeConfig = () => {
    if (!options.kubeConfig) throw new Error('startDashboard needs a kubeConfig');
    // Shared connections, bounded requests, and a User-Agent the audit log can name.
    client ??= controllerKubeConfig(options.kubeConfig, { userAgent: dashboardUserAgent });
    return client;
  };
  const actions: DashboardActions = options.readOnly
    ? readOnlyActions
    : (options.actions ?? kubeActions({ kubeConfig: kubeConfig() }));
  const hub = createHub({
    sources:
      options.sources ??
      createSources({
        kubeConfig: kubeConfig(),
        logger,
        ...(options.namespaces ? { namespaces: options.namespaces } : {}),
      }),
    mayAct: (namespace) => actions.mayAct(namespace),
    logger,
    ...(options.maxPages !== undefined ? { maxSubscribers: options.maxPages } : {}),
  });
  const assets = typeof options.assets === 'function' ? await options.assets() : options.assets;
  try {
    await hub.start();
  } catch (err) {
    await hub.stop().catch(() => undefined);
    throw err;
  }

  const streams = new Set<ServerResponse>();
  /** The Host headers answered: known once the server listens, which is before any request. */
  let hosts: ReturnType<typeof ownHosts> | undefined;

  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      ...securityHeaders,
      'Content-Type': type,
      'Cache-Control': 'no-store',
      ...extra,
    });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown, extra = {}) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), extra);

  const stream = (res: ServerResponse, follow: Follow | undefined) => {
    // Subscribed before the headers go out, so that a full hub still answers 503; what
    // the hub sends meanwhile (the snapshot) waits for the headers.
    const waiting: StreamMessage[] = [];
    let open = false;
    const write = (message: StreamMessage) => {
      if (!open) return void waiting.push(message);
      if (res.writableLength > maxBufferedBytes) {
        logger.warn('Dashboard page reads too slowly; ending its stream');
        return void res.destroy();
      }
      res.write(`data: ${JSON.stringify(message)}\n\n`);
    };
    let unsubscribe: () => void;
    try {
      unsubscribe = hub.subscribe(write, follow);
    } catch (err) {
      if (err instanceof TooManySubscribers) return json(res, 503, { error: err.message });
      throw err;
    }
    res.writeHead(200, {
      ...securityHeaders,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    open = true;
    waiting.splice(0).forEach(write);
    streams.add(res);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
  };

  const act = async (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) => {
    const [, namespace, canary, action] = match as unknown as string[];
    if (options.readOnly)
      return json(res, 403, {
        error: 'This dashboard is read-only (--read-only): no action can be taken here',
      });
    const refusal = writeRefusal(req.headers);
    if (refusal) return json(res, 403, { error: refusal });
    if (!manualActions.includes(action as ManualAction))
      return json(res, 404, {
        error: `Unknown action "${action}": one of ${manualActions.join(', ')}`,
      });
    if (!(await readBody(req))) return json(res, 413, { error: 'An action carries no body' });
    try {
      const message = await actions.request(namespace!, canary!, action as ManualAction);
      logger.info({ canary: `${namespace}/${canary}`, action }, 'Dashboard action requested');
      json(res, 200, { message });
    } catch (err) {
      const { status, error } = actionError(err);
      logger.warn(
        { canary: `${namespace}/${canary}`, action, status, error },
        'Dashboard action refused',
      );
      json(res, status, { error });
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    hosts ??= ownHosts(address, (server.address() as AddressInfo).port, options.allowedHosts);
    // The one path any Host may ask for: a kubelet probes the pod's IP. It reveals nothing.
    if (req.url === '/healthz' && req.method === 'GET')
      return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    if (!hostAllowed(req.headers.host, hosts))
      return send(
        res,
        403,
        'text/plain; charset=utf-8',
        `This dashboard answers only its own address, not Host "${req.headers.host ?? ''}"; to serve it under another name, start it with --allowed-host HOST\n`,
      );
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'POST') {
      const match = actionPath.exec(path);
      if (!match) return json(res, 404, { error: 'Not found' });
      return act(req, res, match);
    }
    if (method !== 'GET')
      // OPTIONS too: the server answers no CORS preflight, so no cross-origin page may write.
      return json(res, 405, { error: `${method} is not allowed` }, { Allow: 'GET, POST' });
    if (path === '/' || pagePath.test(path))
      return send(res, 200, 'text/html; charset=utf-8', pageShell);
    if (path === '/app.js')
      return send(res, 200, 'text/javascript; charset=utf-8', assets['app.js']);
    if (path === '/app.css') return send(res, 200, 'text/css; charset=utf-8', assets['app.css']);
    if (path === '/api/canaries') return json(res, 200, hub.rows());
    const canary = canaryPath.exec(path);
    if (canary) {
      const detail = await hub.detail(canary[1]!, canary[2]!);
      return detail
        ? json(res, 200, detail)
        : json(res, 404, { error: `No Canary ${canary[1]}/${canary[2]} (or not watched)` });
    }
    if (path === '/api/stream') {
      const param = url.searchParams.get('canary');
      const follow = param === null ? undefined : followParam.exec(param);
      if (param !== null && !follow)
        return json(res, 400, { error: 'canary must be <namespace>/<name>' });
      return stream(res, follow ? { namespace: follow[1]!, name: follow[2]! } : undefined);
    }
    json(res, 404, { error: 'Not found' });
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      logger.error({ err, method: req.method }, 'Dashboard request failed');
      if (!res.headersSent) json(res, 500, { error: 'Internal error; see the dashboard log' });
      else res.end();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await hub.stop();
    throw err;
  }
  const bound = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${shown}:${bound.port}/`,
    async close() {
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await hub.stop();
    },
  };
}

/** Reads a POST body up to {@link maxBodyBytes}; false when it is larger. */
async function readBody(req: IncomingMessage): Promise<boolean> {
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return false;
  }
  return true;
}

/** The status and message an action's failure answers with. */
function actionError(err: unknown): { status: number; error: string } {
  if (err instanceof k8s.ApiException) {
    const code = err.code as number;
    const body = (typeof err.body === 'string' ? safeJson(err.body) : err.body) as
      { message?: string } | undefined;
    const error = body?.message ?? `The Kubernetes API answered ${code}`;
    // The user's own RBAC, or a Canary that is gone: say so; anything else is the API's fault.
    return { status: code === 403 || code === 404 || code === 409 ? code : 502, error };
  }
  // requestAction's refusals: the phase does not allow it, or there is no release yet.
  return { status: 409, error: (err as Error).message };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
