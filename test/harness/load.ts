import { Agent, request } from 'node:http';

/** What a load generator saw: answers per body (trimmed) and status, and failures. */
export interface LoadCounts {
  /** `<status> <body>` → count, e.g. `200 hello from 1.0.1`. */
  answers: Record<string, number>;
  /** Requests without a 2xx answer (a 5xx, or no answer at all). */
  failed: number;
  total: number;
  /** The first few failures, for the error message. */
  examples: string[];
  /** `<body> | <Set-Cookie>` → count, for answers that set a cookie. */
  setCookies: Record<string, number>;
}

const empty = (): LoadCounts => ({
  answers: {},
  failed: 0,
  total: 0,
  examples: [],
  setCookies: {},
});

// Keep-alive connections, as a browser or a service client would hold them.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One GET with node:http (fetch cannot set Host, which routes by hostname need). */
function get(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function once(
  url: string,
  headers: Record<string, string>,
  counts: LoadCounts,
  timeoutMs: number,
): Promise<void> {
  let key: string;
  let ok = false;
  try {
    const res = await get(url, headers, timeoutMs);
    key = `${res.status} ${res.body.trim()}`;
    ok = res.status >= 200 && res.status < 300;
    for (const cookie of res.setCookie) {
      const k = `${res.body.trim()} | ${cookie}`;
      counts.setCookies[k] = (counts.setCookies[k] ?? 0) + 1;
    }
  } catch (err) {
    key = `no answer: ${(err as Error).message}`;
  }
  counts.total += 1;
  counts.answers[key] = (counts.answers[key] ?? 0) + 1;
  if (!ok) {
    counts.failed += 1;
    if (counts.examples.length < 5) counts.examples.push(`${new Date().toISOString()} ${key}`);
  }
}

/** Sends `n` requests, `concurrency` at a time, and counts the answers. */
export async function sendRequests(
  url: string,
  n: number,
  options: { headers?: Record<string, string>; concurrency?: number; timeoutMs?: number } = {},
): Promise<LoadCounts> {
  const counts = empty();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next += 1;
      await once(url, options.headers ?? {}, counts, options.timeoutMs ?? 5_000);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return counts;
}

/**
 * Steady load in the background: `rps` requests per second, each with a timeout,
 * counted until `stop()` (which waits for the requests in flight).
 */
export class SteadyLoad {
  private counts = empty();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly rps: number,
    private readonly headers: Record<string, string> = {},
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      const p = once(this.url, this.headers, this.counts, 5_000);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, 1000 / this.rps);
    return this;
  }

  /** The counts since the last call. */
  take(): LoadCounts {
    const c = this.counts;
    this.counts = empty();
    return c;
  }

  async stop(): Promise<LoadCounts> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    return this.take();
  }
}
