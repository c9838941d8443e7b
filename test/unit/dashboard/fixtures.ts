import type * as k8s from '@kubernetes/client-node';
import type { Canary, CanaryRun } from '../../../src/api/types.js';
import {
  eventKey,
  runKey,
  type DashboardSources,
  type Source,
} from '../../../src/dashboard/hub.js';

/** A string a webhook or a Canary's author could send to break a page that used innerHTML. */
export const hostile = `<img src=x onerror="alert(1)"></script><script>alert('x')</script> &amp; \u202edlrow\u202c ${'"'}'\``;

/** A Canary `name` in `namespace` (shop), in `phase`, targeting the Deployment of its name. */
export function canary(
  name: string,
  status: Canary['status'] = {},
  namespace = 'shop',
  extra: Partial<Canary['metadata']> = {},
): Canary {
  return {
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name, namespace, resourceVersion: '1', ...extra },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 80 },
      analysis: { interval: '10s', threshold: 3, maxWeight: 50, stepWeight: 10 },
    },
    status,
  };
}

/** A CanaryRun of `canary` with the given transitions. */
export function run(
  canary: string,
  name: string,
  startTime: string,
  transitions: NonNullable<CanaryRun['status']>['transitions'] = [],
  extra: {
    to?: string[];
    from?: string[];
    result?: 'Promoted' | 'RolledBack';
    namespace?: string;
  } = {},
): CanaryRun {
  return {
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'CanaryRun',
    metadata: {
      name,
      namespace: extra.namespace ?? 'shop',
      resourceVersion: '1',
      labels: { 'weir.dev/canary': canary },
    },
    spec: {
      canary,
      revision: 'rev2',
      startTime,
      images: {
        from: extra.from ?? [`example.test/${canary}:1`],
        to: extra.to ?? [`example.test/${canary}:2`],
      },
    },
    status: { transitions, ...(extra.result ? { result: extra.result } : {}) },
  };
}

/** A Deployment `name` running `images`. */
export function deployment(
  name: string,
  images: string[],
  replicas = 2,
  ready = replicas,
  namespace = 'shop',
): k8s.V1Deployment {
  return {
    metadata: { name, namespace, resourceVersion: '1' },
    spec: {
      replicas,
      selector: {},
      template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } },
    },
    status: { replicas, readyReplicas: ready },
  };
}

/** An Event about the Canary `name`. */
export function event(
  canaryName: string,
  eventName: string,
  time: string,
  message: string,
  namespace = 'shop',
): k8s.CoreV1Event {
  return {
    metadata: { name: eventName, namespace, resourceVersion: '1' },
    involvedObject: {
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      name: canaryName,
      namespace,
    },
    type: 'Normal',
    reason: 'Synced',
    message,
    lastTimestamp: new Date(time),
  };
}

/**
 * A source the test writes to: `set` and `remove` update the cache, then tell the
 * handlers, like an informer; `indexBy` keeps `indexed` current.
 */
export class FakeSource<T extends k8s.KubernetesObject> implements Source<T> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: ((obj: T) => void)[] = [];
  started = false;
  constructor(private readonly indexBy?: (obj: T) => string | undefined) {}
  readonly cache = {
    get: (name: string, namespace?: string) => this.objects.get(`${namespace}/${name}`),
    list: (namespace?: string) =>
      [...this.objects.values()].filter((o) => !namespace || o.metadata?.namespace === namespace),
  };
  indexed(key: string): T[] {
    return [...this.objects.values()].filter((o) => this.indexBy?.(o) === key);
  }
  onChange(handler: (obj: T) => void): void {
    this.handlers.push(handler);
  }
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }
  set(obj: T): void {
    this.objects.set(`${obj.metadata?.namespace}/${obj.metadata?.name}`, obj);
    this.handlers.forEach((h) => h(obj));
  }
  remove(obj: T): void {
    this.objects.delete(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
    this.handlers.forEach((h) => h(obj));
  }
}

/** The four fake sources, indexed as the real ones are. */
export function fakeSources() {
  return {
    canaries: new FakeSource<Canary>(),
    runs: new FakeSource<CanaryRun>(runKey),
    deployments: new FakeSource<k8s.V1Deployment>(),
    events: new FakeSource<k8s.CoreV1Event>(eventKey),
  } satisfies DashboardSources;
}
