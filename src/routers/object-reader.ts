import * as k8s from '@kubernetes/client-node';

/**
 * Reads one object of a kind through the generic object API: `namespace`
 * undefined for a cluster-scoped kind. Undefined when the object does not exist;
 * any other failure (an outage) is thrown.
 */
export type ObjectReader<T> = (
  namespace: string | undefined,
  name: string,
) => Promise<T | undefined>;

/** An {@link ObjectReader} of `apiVersion`/`kind` on the API server. */
export function objectReader<T>(
  kubeConfig: k8s.KubeConfig,
  apiVersion: string,
  kind: string,
): ObjectReader<T> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  return (namespace, name) =>
    objects
      .read({
        apiVersion,
        kind,
        metadata: namespace === undefined ? { name } : { namespace, name },
      })
      .then((o) => o as T)
      .catch((err: { code?: number }) => {
        if (err.code === 404) return undefined;
        throw err;
      });
}
