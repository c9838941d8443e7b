import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a documented-contract server answers: a status, a JSON body, extra headers. */
export interface ApiAnswer {
  status?: number;
  /** A JSON body, or with `text`, ignored. */
  body: unknown;
  /** A body sent as it is (CSV, say), instead of `body` as JSON. */
  text?: string;
  headers?: Record<string, string>;
}

/** A local server that answers with JSON, as a vendor's documented metrics API would. */
export interface VendorApi {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a loopback server whose `answer` decides each reply from the path, the query
 * parameters, the headers and the JSON body: a stand-in for a vendor's documented API (Datadog, Dynatrace),
 * to test Weir against the contract, never the service.
 */
export async function startVendorApi(
  answer: (
    path: string,
    params: URLSearchParams,
    headers: IncomingHttpHeaders,
    body: unknown,
    request: { method: string; url: string; raw: string },
  ) => ApiAnswer,
): Promise<VendorApi> {
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const a = answer(u.pathname, u.searchParams, req.headers, body, {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        raw,
      });
      const type = a.text !== undefined ? 'text/csv' : 'application/json';
      res.writeHead(a.status ?? 200, { 'content-type': type, ...(a.headers ?? {}) });
      res.end(a.text ?? JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
