import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * `weir_nodejs_heap_live_bytes`: the V8 heap in use just after the last full
 * garbage collection. `heap_size_used` also counts garbage not yet collected and
 * RSS counts what V8 reserves, so neither tells whether memory leaks; this one
 * grows only if live data does. Read when the GC's performance entry arrives,
 * so it includes what was allocated in between (little).
 */
export function registerLiveHeap(registry: Registry): { stop(): void } {
  let live: number | undefined;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
        live = process.memoryUsage().heapUsed;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  new Gauge({
    name: 'weir_nodejs_heap_live_bytes',
    help: 'V8 heap in use right after the last full garbage collection (live data, without garbage); 0 before the first.',
    registers: [registry],
    collect() {
      if (live !== undefined) this.set(live);
    },
  });
  return { stop: () => observer.disconnect() };
}
