import type * as k8s from '@kubernetes/client-node';

/** The decoded values of a Secret (`data` base64-decoded, `stringData` as is), trimmed. */
export function secretData(secret: k8s.V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {}))
    out[k] = Buffer.from(v, 'base64').toString('utf8').trim();
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v.trim();
  return out;
}
