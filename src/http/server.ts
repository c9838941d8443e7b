import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config.js';

/** A route handler: returns status, content type and body. */
export type Route = (
  req: IncomingMessage,
) => Promise<{ status: number; type: string; body: string }>;

/** A small HTTP server for /metrics and probes, with an exact-path route table. */
export interface HttpServer {
  /** The bound address, with the real port when 0 was asked for. */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** Starts a server answering only the given paths (404 otherwise, 405 for non-GET). */
export async function startHttpServer(
  at: ListenAddress,
  routes: Record<string, Route>,
): Promise<HttpServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) return void res.writeHead(404).end('not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    route(req).then(
      ({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body),
      (err: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, resolve);
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
