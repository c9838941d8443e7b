import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { shareConnections } from '../../../src/kube/shared-agent.js';

const config = (server: string) => {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
};
const agentOf = async (kc: k8s.KubeConfig) => {
  const opts: { agent?: unknown } = {};
  await kc.applyToHTTPSOptions(opts);
  return opts.agent as { keepAlive?: boolean };
};

describe('shareConnections', () => {
  it('gives every request of a KubeConfig the same keep-alive agent', async () => {
    const plain = config('https://127.0.0.1:6443');
    expect(await agentOf(plain)).not.toBe(await agentOf(plain));

    const kc = shareConnections(config('https://127.0.0.1:6443'));
    const first = await agentOf(kc);
    expect(await agentOf(kc)).toBe(first);
    expect(first.keepAlive).toBe(true);
  });

  it('is idempotent and keeps clusters apart', async () => {
    const a = shareConnections(shareConnections(config('https://127.0.0.1:6443')));
    const b = shareConnections(config('https://127.0.0.1:7443'));
    expect(await agentOf(a)).toBe(await agentOf(a));
    expect(await agentOf(a)).not.toBe(await agentOf(b));
  });
});
