import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

type AgentFactory = (cluster: k8s.Cluster | null, options: https.AgentOptions) => http.Agent;

/** TLS and connection options that decide which connections may be shared. */
const keyed = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
  'timeout',
] as const;

const shared = new WeakSet<k8s.KubeConfig>();

/**
 * Makes a KubeConfig reuse its connections. client-node 1.x builds a new
 * `https.Agent` for every request (`KubeConfig.createAgent`), so every API call
 * opens a TLS connection with a fresh SecureContext: at 500 canaries that was 44 %
 * of the controller's CPU (bench/scale, `--cpu-prof`). This keeps one keep-alive
 * agent per cluster and distinct set of TLS options; new credentials (a rotated
 * client certificate) get a new agent. Proxied clusters keep the library's agents.
 */
export function shareConnections(kubeConfig: k8s.KubeConfig): k8s.KubeConfig {
  if (shared.has(kubeConfig)) return kubeConfig;
  shared.add(kubeConfig);
  const target = kubeConfig as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kubeConfig);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    if (!cluster || cluster.proxyUrl) return original(cluster, options);
    const hash = createHash('sha256').update(cluster.server);
    for (const name of keyed) hash.update(`\0${name}=${String(options[name] ?? '')}`);
    const id = hash.digest('hex');
    let agent = agents.get(id);
    if (!agent) {
      const keepAlive = { ...options, keepAlive: true };
      agent = cluster.server.startsWith('http:')
        ? (original(cluster, keepAlive) as http.Agent)
        : new https.Agent(keepAlive);
      agents.set(id, agent);
    }
    return agent;
  };
  return kubeConfig;
}
