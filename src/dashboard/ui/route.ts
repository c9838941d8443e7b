/** The page's two routes, from `location.pathname`, and the links to them. Pure. */

/** Where the page is: the list, one Canary, or nowhere it knows. */
export type Route =
  { page: 'list' } | { page: 'detail'; namespace: string; name: string } | { page: 'unknown' };

/** Kubernetes names (DNS subdomains and labels): what the server's own routes accept. */
const name = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The route of a path: `/` is the list, `/canaries/<namespace>/<name>` one Canary. */
export function parseRoute(pathname: string): Route {
  if (pathname === '/') return { page: 'list' };
  const parts = pathname.split('/');
  if (parts.length === 4 && parts[0] === '' && parts[1] === 'canaries') {
    const [namespace, canary] = [decode(parts[2]!), decode(parts[3]!)];
    if (namespace && canary && name.test(namespace) && name.test(canary))
      return { page: 'detail', namespace, name: canary };
  }
  return { page: 'unknown' };
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** The path of one Canary's page. */
export const canaryHref = (namespace: string, canary: string): string =>
  `/canaries/${encodeURIComponent(namespace)}/${encodeURIComponent(canary)}`;

/** The stream a route follows: the detail page also gets its Canary's detail. */
export function streamUrl(route: Route): string {
  return route.page === 'detail'
    ? `/api/stream?canary=${encodeURIComponent(`${route.namespace}/${route.name}`)}`
    : '/api/stream';
}

/** The path an action POSTs to. */
export const actionUrl = (namespace: string, canary: string, action: string): string =>
  `${canaryHref(namespace, canary).replace('/canaries/', '/api/canaries/')}/actions/${encodeURIComponent(action)}`;
