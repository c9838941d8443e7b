import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How the hostile server answers every request, until told otherwise. */
export type Hostility =
  /** A normal answer. */
  | { kind: 'answer'; status?: number; body: string; contentType?: string }
  /** A body of `bytes` bytes at full speed (e.g. 1 GiB), starting with `prefix`. */
  | { kind: 'huge'; bytes: number; prefix?: string }
  /** Headers, then one byte every `intervalMs`, for ever. */
  | { kind: 'drip'; intervalMs: number }
  /** Headers, then an endless body at full speed. */
  | { kind: 'endless' }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** A redirect to `location` (tests point it at another loopback server and check it is not followed). */
  | { kind: 'redirect'; status?: number; location: string }
  /** A Prometheus query answer with `series` series of value `value` (a number, 'NaN', '+Inf'). */
  | { kind: 'prometheus'; series: number; value: string };

/** A request the hostile server saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP server that misbehaves on purpose, for failure stories. */
export interface HostileServer {
  readonly url: string;
  /** Every request seen, in order (bodies cut at 64 KiB). */
  readonly requests: SeenRequest[];
  /** Bytes written to clients so far, over all responses. */
  readonly bytesSent: number;
  set(hostility: Hostility): void;
  /** Closes every connection, even endless ones, and the server. */
  stop(): Promise<void>;
}

const chunk = Buffer.alloc(64 * 1024, 'x');

/**
 * Starts a hostile HTTP server on 127.0.0.1. It only ever listens on loopback;
 * redirects point where the test says, which must be loopback too.
 */
export async function startHostileServer(initial: Hostility): Promise<HostileServer> {
  let hostility = initial;
  let bytesSent = 0;
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const write = (res: ServerResponse, data: string | Buffer) => {
    bytesSent += Buffer.byteLength(data);
    return res.write(data);
  };
  const stream = (res: ServerResponse, total: number, prefix: string) => {
    let left = total - Buffer.byteLength(prefix);
    write(res, prefix);
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!write(res, piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const h = hostility;
    switch (h.kind) {
      case 'answer':
        res.writeHead(h.status ?? 200, { 'content-type': h.contentType ?? 'application/json' });
        bytesSent += Buffer.byteLength(h.body);
        res.end(h.body);
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': h.bytes });
        stream(res, h.bytes, h.prefix ?? '');
        return;
      case 'endless':
        res.writeHead(200, { 'content-type': 'application/json' });
        stream(res, Number.MAX_SAFE_INTEGER, '{"status":"success","data":{"result":[');
        return;
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const t = setInterval(() => {
          if (res.destroyed) return clearInterval(t);
          write(res, ' ');
        }, h.intervalMs);
        timers.add(t);
        return;
      }
      case 'hang':
        return;
      case 'redirect':
        res.writeHead(h.status ?? 302, { location: h.location });
        res.end();
        return;
      case 'prometheus': {
        const result = Array.from({ length: h.series }, (_, i) => ({
          metric: { pod: `pod-${i}` },
          value: [Date.now() / 1000, h.value],
        }));
        const text = JSON.stringify({ status: 'success', data: { resultType: 'vector', result } });
        res.writeHead(200, { 'content-type': 'application/json' });
        bytesSent += Buffer.byteLength(text);
        res.end(text);
        return;
      }
    }
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      if (body.length < 65_536) body += c;
    });
    req.on('end', () => handle(req, res, body.slice(0, 65_536)));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('hostile server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    get bytesSent() {
      return bytesSent;
    },
    set(next) {
      hostility = next;
    },
    stop: () =>
      new Promise((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
