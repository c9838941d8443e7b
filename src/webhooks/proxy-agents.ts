import type http from 'node:http';
import { isIP } from 'node:net';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { EgressPolicy } from '../util/egress.js';

type AgentConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/**
 * A tunnel whose TLS connection to the destination skips the certificate check (a webhook's
 * `insecureSkipVerify`): https-proxy-agent opens that connection with the request's options.
 */
class UnverifiedHttpsProxyAgent extends HttpsProxyAgent<string> {
  override connect(req: http.ClientRequest, opts: AgentConnectOpts) {
    // Only a TLS destination reaches this agent (see agentFor), so opts are https options.
    return super.connect(req, { ...opts, rejectUnauthorized: false } as AgentConnectOpts);
  }
}

/** Proxies whose agents are kept at most: proxy URLs come from AlertProviders and Secrets. */
export const proxiesKept = 64;

/**
 * Agents that send notifications through an HTTP(S) proxy (an AlertProvider's `proxy`).
 * The connection to the proxy is held to the egress policy (its name through the policy's
 * `lookup`, a literal address before connecting), and so is a destination given as a
 * literal address; a destination's name is resolved by the proxy, so what lies behind it
 * is the proxy's policy (docs/notifications.md). No keep-alive: a notification opens one
 * connection and closes it, so no socket outlives an evicted proxy.
 */
export class ProxyAgents {
  private readonly agents = new Map<string, { http: http.Agent; https: http.Agent }>();

  constructor(private readonly policy: EgressPolicy) {}

  /**
   * The agent that sends a request for `destination` through `proxy`, or why it may not.
   * `insecure` (a webhook's `insecureSkipVerify`) skips the destination's certificate check.
   */
  agentFor(
    proxy: string,
    destination: string,
    insecure = false,
  ): { agent: http.Agent } | { error: string } {
    let p: URL;
    let d: URL;
    try {
      p = new URL(proxy);
      d = new URL(destination);
    } catch {
      return { error: 'the proxy is not a URL' };
    }
    // Messages name hosts only: a proxy URL may carry credentials, a webhook URL a token.
    if (p.protocol !== 'http:' && p.protocol !== 'https:')
      return { error: `the proxy ${p.host} is not an http or https URL` };
    for (const [what, url] of [
      ['proxy', p],
      ['destination', d],
    ] as const) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const denied = isIP(host) !== 0 ? this.policy.refusal(host) : undefined;
      if (denied) return { error: `${what}: ${denied.message}` };
    }
    const key = `${insecure ? 'insecure' : 'verify'} ${proxy}`;
    let agents = this.agents.get(key);
    if (agents) this.agents.delete(key);
    else {
      const options = { lookup: this.policy.lookup, keepAlive: false };
      agents = {
        http: new HttpProxyAgent(proxy, options),
        https: insecure
          ? new UnverifiedHttpsProxyAgent(proxy, options)
          : new HttpsProxyAgent(proxy, options),
      };
    }
    this.agents.set(key, agents);
    while (this.agents.size > proxiesKept) this.agents.delete(this.agents.keys().next().value!);
    return { agent: d.protocol === 'https:' ? agents.https : agents.http };
  }

  /** Proxies with agents kept (tests check the bound). */
  get size(): number {
    return this.agents.size;
  }
}
