import type { V1Secret } from '@kubernetes/client-node';

/**
 * The label a Secret needs before a MetricTemplate or AlertProvider may use it
 * as credentials. Whoever can create those objects in a namespace could
 * otherwise send any Secret of it (a service account token, a TLS key) to an
 * address of their choosing; the label is the Secret owner's consent.
 */
export const credentialsLabel = 'weir.dev/credentials';

/** Secrets of this type are never sent anywhere, labelled or not. */
export const serviceAccountTokenType = 'kubernetes.io/service-account-token';

/**
 * Why `secret` (named `ref`) may not be used as credentials, or undefined when
 * it may. Pure, so it works on whatever read the Secret (a cache or a get by name).
 */
export function credentialSecretProblem(
  secret: V1Secret,
  ref: { namespace: string; name: string },
): string | undefined {
  const name = `Secret ${ref.namespace}/${ref.name}`;
  if (secret.type === serviceAccountTokenType)
    return `${name} is a service account token, which Weir never sends as credentials`;
  if (secret.metadata?.labels?.[credentialsLabel] !== 'true')
    return `${name} is not labelled ${credentialsLabel}: "true"; label it to let MetricTemplates and AlertProviders of its namespace use it as credentials`;
  return undefined;
}
