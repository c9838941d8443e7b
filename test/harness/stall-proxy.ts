import { createServer, connect, type Server, type Socket } from 'node:net';

/** A TCP proxy on loopback whose path can be made to stall, as a congested network does. */
export interface StallProxy {
  /** `127.0.0.1:<port>`: point a client here instead of at the target. */
  readonly address: string;
  readonly port: number;
  /**
   * From now on nothing passes either way. What a client sends is held, and
   * dropped if the client gives up on its connection before `resume()`: like
   * segments lost on a congested path, never retransmitted by a closed socket.
   */
  stall(): void;
  /** Delivers what was held for connections still open, and passes traffic again. */
  resume(): void;
  stop(): Promise<void>;
}

/** Starts a stallable TCP proxy in front of `target` (`host:port`, loopback only). */
export async function startStallProxy(target: string): Promise<StallProxy> {
  const [host, portText] = target.split(':') as [string, string];
  if (!/^127\.\d+\.\d+\.\d+$/.test(host))
    throw new Error(`stall proxy target ${target} is not loopback`);
  let stalled = false;
  const pipes = new Set<{ client: Socket; upstream: Socket; held: Buffer[]; back: Buffer[] }>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(portText), host);
    const pipe = { client, upstream, held: [] as Buffer[], back: [] as Buffer[] };
    pipes.add(pipe);
    client.on('data', (d: Buffer) => (stalled ? pipe.held.push(d) : upstream.write(d)));
    upstream.on('data', (d: Buffer) => (stalled ? pipe.back.push(d) : client.write(d)));
    const close = () => {
      pipes.delete(pipe);
      pipe.held = [];
      pipe.back = [];
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    port,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const p of pipes) {
        for (const d of p.held.splice(0)) p.upstream.write(d);
        for (const d of p.back.splice(0)) p.client.write(d);
      }
    },
    stop: () =>
      new Promise((resolve) => {
        for (const p of pipes) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
