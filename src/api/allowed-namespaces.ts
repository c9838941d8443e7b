import { Type } from '@sinclair/typebox';
import { maxAllowedNamespaces } from './limits.js';

/**
 * `spec.allowedNamespaces` of a MetricTemplate or AlertProvider: the namespaces
 * whose Canaries may use it. The object's owner opts in; a Canary cannot.
 */
export function AllowedNamespaces(kind: string) {
  return Type.Array(
    Type.String({
      maxLength: 63,
      pattern: '^(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$',
      description: 'A namespace name, or * for every namespace.',
    }),
    {
      maxItems: maxAllowedNamespaces,
      description: `Namespaces whose Canaries may use this ${kind}, besides its own; * allows every namespace. Empty or unset: only Canaries of its own namespace. The controller must also allow cross-namespace references (it does unless started with --no-cross-namespace-refs).`,
    },
  );
}

/**
 * Whether a Canary of `namespace` may use an object that lists `allowed`:
 * always in the object's own namespace, else only when listed (or `*` is).
 */
export function allowsNamespace(
  objectNamespace: string | undefined,
  allowed: readonly string[] | undefined,
  namespace: string,
): boolean {
  if (objectNamespace === namespace) return true;
  return (allowed ?? []).some((n) => n === '*' || n === namespace);
}
