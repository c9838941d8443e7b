import * as k8s from '@kubernetes/client-node';
import { group } from '../api/crds.js';
import type { ManualAction } from '../api/manual-actions.js';
import { requestAction } from '../kube/manual-actions.js';

/** What the dashboard may do in the cluster, as whoever runs it. */
export interface DashboardActions {
  /**
   * Whether actions are offered in `namespace`: the API server's answer to a
   * SelfSubjectAccessReview for `patch` on `canaries`, cached per namespace.
   */
  mayAct(namespace: string): Promise<boolean>;
  /** Writes the action's annotation (the CLI's code); resolves to what was written. */
  request(namespace: string, name: string, action: ManualAction): Promise<string>;
}

/** Options for {@link kubeActions}. */
export interface KubeActionsOptions {
  kubeConfig: k8s.KubeConfig;
  /** How long an answer of the API server is reused (default 60 s). */
  ttlMs?: number;
  /** Now, in epoch ms (tests). */
  now?: () => number;
}

/**
 * Actions through the user's kubeconfig. Hiding an action only keeps the page
 * honest: the API server enforces RBAC on the patch whatever the page shows.
 */
export function kubeActions(options: KubeActionsOptions): DashboardActions {
  const { kubeConfig } = options;
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const authorization = kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
  const answers = new Map<string, { at: number; allowed: Promise<boolean> }>();
  const ask = async (namespace: string) => {
    const review = await authorization.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace, verb: 'patch', group, resource: 'canaries' } },
      },
    });
    return review.status?.allowed === true;
  };
  return {
    mayAct(namespace) {
      const cached = answers.get(namespace);
      if (cached && now() - cached.at < ttlMs) return cached.allowed;
      const allowed = ask(namespace);
      answers.set(namespace, { at: now(), allowed });
      // A failed question is asked again next time, not remembered for a minute.
      allowed.catch(() => answers.delete(namespace));
      return allowed;
    },
    request: (namespace, name, action) => requestAction({ kubeConfig, namespace }, name, action),
  };
}

/** Actions of a read-only dashboard: none offered, every request refused. */
export const readOnlyActions: DashboardActions = {
  mayAct: async () => false,
  request: async () => {
    throw new Error('This dashboard is read-only (--read-only)');
  },
};
