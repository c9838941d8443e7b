import type * as k8s from '@kubernetes/client-node';

/** Requests sent per backend Service since the last report. */
export type TrafficCounts = Record<string, { ok: number; failed: number }>;

/**
 * A stand-in for the gateway data plane: the local cluster runs no Gateway API
 * implementation, so this reads the weights Weir wrote into the HTTPRoute from
 * the API server every second and splits real HTTP requests between the local
 * processes serving the backend Services accordingly.
 */
export class TrafficSplitter {
  private weights: Record<string, number> = {};
  private readonly credit: Record<string, number> = {};
  private counts: TrafficCounts = {};
  private readTimer: NodeJS.Timeout | undefined;
  private sendTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: {
      objects: k8s.KubernetesObjectApi;
      namespace: string;
      route: string;
      /** Backend Service name → URL of the process serving it. */
      backends: Record<string, string>;
      /** Service used before the route exists. */
      fallback: string;
      rps: number;
    },
  ) {}

  start(): void {
    this.weights = { [this.options.fallback]: 100 };
    this.readTimer = setInterval(() => void this.readWeights(), 1000);
    void this.readWeights();
    this.sendTimer = setInterval(() => this.send(), 1000 / this.options.rps);
  }

  /** The counts since the last call. */
  take(): TrafficCounts {
    const c = this.counts;
    this.counts = {};
    return c;
  }

  current(): Record<string, number> {
    return { ...this.weights };
  }

  async stop(): Promise<void> {
    clearInterval(this.readTimer);
    clearInterval(this.sendTimer);
    await Promise.allSettled([...this.inFlight]);
  }

  private async readWeights(): Promise<void> {
    try {
      const route = (await this.options.objects.read({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: this.options.route, namespace: this.options.namespace },
      })) as {
        spec?: {
          rules?: { matches?: unknown[]; backendRefs?: { name: string; weight?: number }[] }[];
        };
      };
      const rules = route.spec?.rules ?? [];
      // The catch-all rule carries the weights (A/B rules have header matches).
      const rule = rules.find((r) => !r.matches || r.matches.length === 0) ?? rules.at(-1);
      if (rule?.backendRefs?.length)
        this.weights = Object.fromEntries(rule.backendRefs.map((b) => [b.name, b.weight ?? 1]));
    } catch {
      // No route yet: keep the last weights.
    }
  }

  /** Smooth weighted round-robin: exact proportions, no randomness. */
  private pick(): string | undefined {
    const entries = Object.entries(this.weights).filter(([, w]) => w > 0);
    const total = entries.reduce((s, [, w]) => s + w, 0);
    if (total === 0) return undefined;
    let best: string | undefined;
    for (const [name, w] of entries) {
      this.credit[name] = (this.credit[name] ?? 0) + w;
      if (best === undefined || this.credit[name]! > this.credit[best]!) best = name;
    }
    this.credit[best!]! -= total;
    return best;
  }

  private send(): void {
    const backend = this.pick();
    const url = backend && this.options.backends[backend];
    if (!backend || !url) return;
    const count = (this.counts[backend] ??= { ok: 0, failed: 0 });
    const p = fetch(url, { signal: AbortSignal.timeout(5_000) })
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.ok) count.ok += 1;
        else count.failed += 1;
      })
      .catch(() => {
        count.failed += 1;
      });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
