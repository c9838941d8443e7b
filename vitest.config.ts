import { defineConfig } from 'vitest/config';

// Three suites: `unit` needs nothing but Node; `integration` starts real components
// (Kubernetes control plane, Prometheus) through the harness in test/harness; `faults`
// breaks those components (pause, restart, garbage) in the middle of real releases.
export default defineConfig({
  test: {
    reporters: ['verbose', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // The control plane is heavy on two cores: one integration file at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          // Faults stall real components for real seconds: one file at a time, like integration.
          fileParallelism: false,
        },
      },
    ],
  },
});
