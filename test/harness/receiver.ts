import {
  createServer,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Milliseconds since the receiver started. */
  at: number;
}

/** What a receiver answers on a path: a status and body, after an optional delay (`hang` never answers). */
export type Reply = { status: number; body?: string; delayMs?: number } | 'hang';

/** A real HTTP receiver on loopback for webhooks and chat notifications. */
export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Requests to one path (e.g. `/confirm`). */
  on(path: string): Received[];
  /** Sets the answer for a path (default 200 "ok"). */
  reply(path: string, reply: Reply): void;
  stop(): Promise<void>;
}

/**
 * Starts a receiver that records every JSON POST and answers as told; with `tls`, an
 * https one (its `url` then starts with https://).
 */
export async function startReceiver(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<Receiver> {
  const started = Date.now();
  const received: Received[] = [];
  const replies = new Map<string, Reply>();
  const handler: RequestListener = (req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON: keep the text
      }
      received.push({ path, headers: req.headers, body, at: Date.now() - started });
      const reply = replies.get(path) ?? { status: 200, body: 'ok' };
      if (reply === 'hang') return;
      const send = () =>
        res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body ?? '');
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  };
  const server: Server = options.tls
    ? createTlsServer(options.tls, handler)
    : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    on: (path) => received.filter((r) => r.path === path),
    reply: (path, reply) => replies.set(path, reply),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
