import * as k8s from '@kubernetes/client-node';
import type https from 'node:https';
import { Counter, type Registry } from 'prom-client';

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

/**
 * A KubeConfig that counts every request made through it in
 * `weir_kube_requests_total{verb,resource}`: generated API clients and
 * KubernetesObjectApi (through `applySecurityAuthentication`, which sees the
 * method and URL) and watches (through `applyToFetchOptions`, which client-node's
 * Watch calls without the URL, so watches count with resource `unknown`).
 * The copy shares the source's clusters, users and contexts; the source is not
 * changed.
 */
export function countingKubeConfig(source: k8s.KubeConfig, registry: Registry): k8s.KubeConfig {
  const requests =
    (registry.getSingleMetric('weir_kube_requests_total') as Counter<'verb' | 'resource'>) ??
    new Counter({
      name: 'weir_kube_requests_total',
      help: 'Kubernetes API requests sent, by verb and resource (watches: resource unknown).',
      labelNames: ['verb', 'resource'],
      registers: [registry],
    });
  class CountingKubeConfig extends k8s.KubeConfig {
    override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
      requests.inc(requestKind(context.getHttpMethod(), context.getUrl()) as never);
      await super.applySecurityAuthentication(context);
    }

    override async applyToFetchOptions(
      opts: https.RequestOptions,
    ): ReturnType<k8s.KubeConfig['applyToFetchOptions']> {
      // In the controller only client-node's Watch fetches this way.
      requests.inc({ verb: 'watch', resource: 'unknown' });
      return super.applyToFetchOptions(opts);
    }
  }
  const copy = new CountingKubeConfig();
  copy.loadFromOptions({
    clusters: source.clusters,
    users: source.users,
    contexts: source.contexts,
    currentContext: source.currentContext,
  });
  return copy;
}
