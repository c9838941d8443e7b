import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerLiveHeap } from '../../../src/util/live-heap.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const live = async (registry: Registry) =>
  (await registry.getSingleMetric('weir_nodejs_heap_live_bytes')!.get()).values[0]?.value;

describe('registerLiveHeap', () => {
  it('reports 0 before a full collection, then the heap in use right after one', async () => {
    const registry = new Registry();
    const heap = registerLiveHeap(registry);
    try {
      expect(await live(registry)).toBe(0);
      gc();
      // The GC's performance entry arrives asynchronously.
      for (let i = 0; i < 50 && (await live(registry)) === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      const value = await live(registry);
      expect(value).toBeGreaterThan(1024 * 1024);
      expect(value).toBeLessThanOrEqual(process.memoryUsage().heapTotal);
    } finally {
      heap.stop();
    }
  });
});
