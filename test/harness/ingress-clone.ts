import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { Canary } from '../../src/api/types.js';
import { readObject } from './controller.js';
import type { RouterTestbed } from './router-testbed.js';
import { waitFor } from './wait.js';

/*
 * What the integration tests of the routers that clone the user's Ingress as
 * `<ingress>-canary` (nginx, skipper) share.
 */

/** An Ingress as read from the API server. */
export type Ingress = k8s.V1Ingress & { metadata: k8s.V1ObjectMeta };

/**
 * The user's Ingress `name`: one host, `/` to Service `name` on port 9898 beside
 * `/static` to another Service, of `className`, with `metadata` added.
 */
export function userIngressManifest(
  namespace: string,
  name: string,
  className: string,
  metadata: Partial<k8s.V1ObjectMeta> = {},
) {
  const path = (p: string, service: string, port: number) => ({
    path: p,
    pathType: 'Prefix',
    backend: { service: { name: service, port: { number: port } } },
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, ...metadata },
    spec: {
      ingressClassName: className,
      rules: [
        {
          host: `${name}.example.test`,
          http: { paths: [path('/', name, 9898), path('/static', 'assets', 80)] },
        },
      ],
    },
  };
}

/** The Ingress `name` of the testbed's namespace, or undefined. */
export const readIngress = (bed: RouterTestbed, name: string) =>
  readObject<Ingress>(bed.objects, 'networking.k8s.io/v1', 'Ingress', bed.namespace, name);

/** The Canary spec that routes `name` with `provider` through the Ingress `name`, port 9898. */
export const ingressCanarySpec = (provider: string, name: string): Partial<Canary['spec']> => ({
  provider,
  ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name },
  service: { port: 9898 },
});

/**
 * Deletes the Canary `name` while watching `<name>-canary`, and waits for the
 * garbage collector to take the clone. Returns what happened to the clone, one
 * `<event type> <what>` a change.
 */
export async function deleteWatchingClone(
  bed: RouterTestbed,
  name: string,
  what: (clone: Ingress) => string,
): Promise<string[]> {
  const seen: string[] = [];
  // The API server (or the connection) may end a watch at any time, and the garbage collector
  // can take tens of seconds: the watch resumes from the last resourceVersion it saw, so no
  // event in between is lost (a resume too old to serve fails with 410 and is reported).
  let resourceVersion: string | undefined;
  let stopped = false;
  let current: AbortController | undefined;
  const open = async (): Promise<void> => {
    current = await new k8s.Watch(bed.kubeConfig).watch(
      `/apis/networking.k8s.io/v1/namespaces/${bed.namespace}/ingresses`,
      {
        fieldSelector: `metadata.name=${name}-canary`,
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      (type, obj: Ingress) => {
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
        if (type !== 'BOOKMARK') seen.push(`${type} ${what(obj)}`);
      },
      (err: unknown) => {
        if (stopped) return;
        if ((err as { code?: number } | undefined)?.code === 410) seen.push('WATCH-EXPIRED');
        else void open().catch(() => seen.push('WATCH-FAILED'));
      },
    );
  };
  await open();
  try {
    await bed.deleteCanary(name);
    // The garbage collector runs on real time (and learns of Weir's kinds late in a
    // fresh cluster), not on the controller's manual clock.
    await waitFor(
      async () => ((await readIngress(bed, `${name}-canary`)) === undefined ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: `the garbage collector to remove ${name}-canary`,
      },
    );
    // The DELETED event may trail the read that found the clone gone.
    await waitFor(async () => (seen.some((e) => e.startsWith('DELETED')) ? true : undefined), {
      timeoutMs: 10_000,
      what: `the watch to report ${name}-canary deleted (seen: ${seen.join(' | ')})`,
    }).catch(() => undefined);
  } finally {
    stopped = true;
    current?.abort();
  }
  return seen;
}

/** Expects the Ingress read as `before` not to have been written since: its resourceVersion is the same. */
export async function expectUnwritten(bed: RouterTestbed, before: Ingress): Promise<void> {
  const now = await readIngress(bed, before.metadata.name!);
  expect(now?.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
}
