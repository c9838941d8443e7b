import { plainText, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';

/** A generic JSON webhook: every field of the notification, plus its plain text. */
export const genericNotifier: Notifier = {
  type: 'generic',
  body: (n: Notification) => ({ ...n, text: plainText(n) }),
};
