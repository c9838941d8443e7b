import type { Logger } from 'pino';
import { apiVersion } from '../api/crds.js';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';

/** One Kubernetes Event on a Canary. */
export interface CanaryEvent {
  /** Makes the Event's name: the same id is the same Event (a repeat is not created twice). */
  id: string;
  reason: string;
  message: string;
  time: string;
  warning: boolean;
}

/** Writes Kubernetes Events on Canaries: a courtesy that never fails a reconcile. */
export class EventWriter {
  constructor(private readonly deps: { kube: KubeAccess; logger: Logger }) {}

  /** Creates the Event; a failure is logged, never thrown. */
  async emit(canary: Canary, e: CanaryEvent): Promise<void> {
    try {
      await this.deps.kube.createEvent({
        metadata: {
          name: `${canary.metadata.name}.${e.id}`,
          namespace: canary.metadata.namespace!,
        },
        involvedObject: {
          apiVersion,
          kind: 'Canary',
          name: canary.metadata.name!,
          namespace: canary.metadata.namespace!,
          uid: canary.metadata.uid!,
        },
        reason: e.reason,
        message: e.message.slice(0, 1024),
        type: e.warning ? 'Warning' : 'Normal',
        firstTimestamp: new Date(e.time),
        lastTimestamp: new Date(e.time),
        count: 1,
        source: { component: 'weir' },
        reportingComponent: 'weir.dev/controller',
        reportingInstance: 'weir',
      });
    } catch (err) {
      // A restarted controller announces its pending outbox again: the Event is already there.
      if ((err as { code?: number }).code === 409) return;
      // Events are a courtesy with a one-hour lifetime; the CanaryRun and the status are the record.
      this.deps.logger.warn(
        { err, canary: `${canary.metadata.namespace}/${canary.metadata.name}` },
        'Could not create Event',
      );
    }
  }
}
