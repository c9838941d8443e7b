import type { Router } from './router.js';

/** Routers by provider name; `gatewayapi:v1` resolves to `gatewayapi`. Unknown names are an error. */
export class RouterRegistry {
  private readonly routers = new Map<string, Router>();

  register(router: Router): this {
    this.routers.set(router.name, router);
    return this;
  }

  /** Tells every router that a Canary is gone, so none keeps memory for it. */
  forget(namespace: string, name: string): void {
    for (const router of this.routers.values()) router.forget?.(namespace, name);
  }

  /** The router for a provider, or an error message naming the known ones. */
  resolve(provider: string): Router | { error: string } {
    const name = provider.split(':')[0]!;
    const router = this.routers.get(name);
    if (router) return router;
    return {
      error: `unknown provider "${provider}": Weir supports ${[...this.routers.keys()].sort().join(', ')}`,
    };
  }
}
