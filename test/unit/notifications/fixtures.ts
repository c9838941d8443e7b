import type { RecordEntry } from '../../../src/contracts/records.js';
import type { NotificationContext } from '../../../src/notifications/notification.js';

/** The release of podinfo 6.5.1 → 6.5.2 in shop, as recorded. */
export const context: NotificationContext = {
  canary: 'podinfo',
  namespace: 'shop',
  run: 'podinfo-7',
  target: 'podinfo',
  images: {
    from: ['ghcr.io/stefanprodan/podinfo:6.5.1'],
    to: ['ghcr.io/stefanprodan/podinfo:6.5.2'],
  },
  startTime: '2026-11-22T10:00:00.000Z',
  threshold: 2,
  inconclusiveLimit: 5,
};

export const promotedEntry: RecordEntry = {
  seq: 12,
  time: '2026-11-22T10:04:10.000Z',
  from: 'Finalising',
  to: 'Succeeded',
  event: 'finalised',
  reason: 'Succeeded',
  message: 'Revision 5f8c2d1e9a promoted',
  weight: 0,
  failedChecks: 0,
  revision: '5f8c2d1e9a',
  run: 'podinfo-7',
};

export const rolledBackEntry: RecordEntry = {
  seq: 9,
  time: '2026-11-22T10:02:30.000Z',
  from: 'Progressing',
  to: 'Failed',
  event: 'checks',
  reason: 'RolledBack',
  message:
    'Failed checks reached the threshold (2/2): request-success-rate 81.25% < 99%; rolled back',
  weight: 0,
  failedChecks: 2,
  revision: '5f8c2d1e9a',
  run: 'podinfo-7',
  metrics: [
    {
      name: 'request-success-rate',
      value: 81.25,
      min: 99,
      passed: false,
      message: 'request-success-rate 81.25% < 99%',
    },
    { name: 'request-duration', value: 12.4, max: 500, passed: true },
  ],
};
