import type { AlertProviderSpec } from '../api/types.js';
import type { Notification } from './notification.js';

/** One chat or webhook format: turns a notification into the body its endpoint expects. */
export interface Notifier {
  readonly type: string;
  body(n: Notification, provider: AlertProviderSpec): unknown;
}

/** Notifiers by AlertProvider type; an unknown type is an error naming the known ones. */
export class NotifierRegistry {
  private readonly notifiers = new Map<string, Notifier>();

  register(notifier: Notifier): this {
    this.notifiers.set(notifier.type, notifier);
    return this;
  }

  resolve(type: string): Notifier | { error: string } {
    return (
      this.notifiers.get(type) ?? {
        error: `unknown alert provider type "${type}": Weir supports ${[...this.notifiers.keys()].sort().join(', ')}`,
      }
    );
  }
}
