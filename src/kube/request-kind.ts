/** A Kubernetes API request as the API server would name it. */
export interface RequestKind {
  /** get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  /** Resource with subresource (`canaries/status`), or `discovery` for API and version paths. */
  resource: string;
}

/**
 * Names a request by HTTP method and URL, with the API server's verb rules:
 * GET is get on a named object, list on a collection, watch with `watch=true`.
 */
export function requestKind(method: string, url: string): RequestKind {
  const u = new URL(url, 'https://api.invalid');
  const parts = u.pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...
  const rest =
    parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  const scoped =
    rest && rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : (rest ?? []);
  const [resource, name, subresource] = scoped;
  const m = method.toUpperCase();
  if (!resource) return { verb: m === 'GET' ? 'get' : m.toLowerCase(), resource: 'discovery' };
  const res = subresource ? `${resource}/${subresource}` : resource;
  const watch = ['true', '1'].includes(u.searchParams.get('watch') ?? '');
  const verb =
    m === 'GET'
      ? watch
        ? 'watch'
        : name
          ? 'get'
          : 'list'
      : m === 'POST'
        ? 'create'
        : m === 'PUT'
          ? 'update'
          : m === 'PATCH'
            ? 'patch'
            : m === 'DELETE'
              ? name
                ? 'delete'
                : 'deletecollection'
              : m.toLowerCase();
  return { verb, resource: res };
}
