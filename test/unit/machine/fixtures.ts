import type { Observation } from '../../../src/machine/canary-machine.js';

/** An observation with nothing unusual going on: no requests, gates open, canary ready. */
export const calmObservation = {
  primaryRevision: 'rev1',
  canaryReady: true,
  skipAnalysis: false,
  suspended: false,
  deleting: false,
  revertOnDeletion: false,
  manual: {},
  gates: { rollout: true, promotion: true },
} satisfies Partial<Observation>;
