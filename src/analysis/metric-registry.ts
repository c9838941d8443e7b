import { createHash } from 'node:crypto';
import type { MetricProvider, MetricProviderFactory, ProviderConfig } from './metric-provider.js';

/**
 * Providers kept for reuse. Configurations are author-controlled (addresses, headers), so the
 * cache is bounded; an evicted provider holds no sockets of its own when built by
 * `prometheusFactory`, whose providers share one pool of agents.
 */
const cacheLimit = 256;

/**
 * Metric providers by type. Providers are built once per configuration and reused,
 * so thousands of canaries on one Prometheus share one connection pool. Unknown
 * types are an error naming the known ones, never a silent default.
 */
export class MetricProviderRegistry {
  private readonly factories = new Map<string, MetricProviderFactory>();
  private readonly built = new Map<string, MetricProvider>();

  register(type: string, factory: MetricProviderFactory): this {
    this.factories.set(type, factory);
    return this;
  }

  /** The provider for a configuration, or an error message. */
  provider(config: ProviderConfig): MetricProvider | { error: string } {
    const key = cacheKey(config);
    const hit = this.built.get(key);
    if (hit) {
      // Most recently used last, so the oldest is evicted first.
      this.built.delete(key);
      this.built.set(key, hit);
      return hit;
    }
    const factory = this.factories.get(config.type);
    if (!factory) {
      return {
        error: `unknown metric provider "${config.type}": Weir supports ${[...this.factories.keys()].sort().join(', ')}`,
      };
    }
    const provider = factory(config);
    this.built.set(key, provider);
    if (this.built.size > cacheLimit) this.built.delete(this.built.keys().next().value!);
    return provider;
  }
}

/** A digest, so credentials are not kept as readable map keys. */
export function cacheKey(config: ProviderConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}
