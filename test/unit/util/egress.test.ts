import http from 'node:http';
import https from 'node:https';
import { createServer, type AddressInfo, type LookupFunction, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EgressDenied } from '../../../src/errors.js';
import { egressPolicy, guardedAgents, parseCidr } from '../../../src/util/egress.js';
import { watchConnections, type ConnectionWatch } from '../../harness/connections.js';

/** A resolver that knows a few names and answers without DNS. */
const names: Record<string, string[]> = {
  'metadata.test': ['169.254.169.254'],
  'loopback.test': ['127.0.0.1'],
  'mixed.test': ['127.0.0.1', '169.254.169.254'],
};
const resolved: string[] = [];
const resolve: LookupFunction = (hostname, options, callback) => {
  resolved.push(hostname);
  const addresses = names[hostname];
  if (!addresses) return callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), '');
  const all = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  if (options.all) callback(null, all);
  else callback(null, all[0]!.address, all[0]!.family);
};

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['192.0.2.7', { address: '192.0.2.7', prefix: 32, family: 'ipv4' }],
  ])('reads %s', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each(['10.0.0.0/33', '::/129', 'example.com/8', '10.0.0.0/8/1', '10.0.0.0/x', '', '10.0.0/8'])(
    'refuses %j',
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );
});

describe('egressPolicy.refusal', () => {
  const byDefault = egressPolicy();

  it.each([
    '169.254.169.254',
    '169.254.0.1',
    'fe80::1',
    'fd00:ec2::254',
    '0.0.0.0',
    '::',
    '::ffff:169.254.169.254',
  ])('always denies %s (link-local, metadata, "this host")', (address) => {
    expect(byDefault.refusal(address)?.message).toMatch(
      /^destination .* is not allowed by the egress policy \(link-local and metadata addresses are always denied\)$/,
    );
  });

  it.each(['127.0.0.1', '::1', '10.1.2.3', '192.168.1.1', '100.64.0.1', 'fd12::1', '203.0.113.9'])(
    'allows %s by default (loopback for tests and sidecars; private ranges on request)',
    (address) => {
      expect(byDefault.refusal(address)).toBeUndefined();
    },
  );

  it('denies private ranges with --egress-deny-private, and says so', () => {
    const policy = egressPolicy({ denyPrivate: true });
    for (const address of ['10.1.2.3', '172.20.0.1', '192.168.1.1', '100.64.0.1', 'fd12::1'])
      expect(policy.refusal(address)?.message).toBe(
        `destination ${address} is not allowed by the egress policy (--egress-deny-private)`,
      );
    expect(policy.refusal('127.0.0.1')).toBeUndefined();
    expect(policy.refusal('203.0.113.9')).toBeUndefined();
  });

  it('denies the extra CIDRs of --egress-deny-cidrs, loopback included when listed', () => {
    const policy = egressPolicy({ denyCidrs: ['127.0.0.0/8', '::1/128', '203.0.113.0/24'] });
    expect(policy.refusal('127.0.0.1')?.message).toBe(
      'destination 127.0.0.1 is not allowed by the egress policy (--egress-deny-cidrs)',
    );
    expect(policy.refusal('::1')).toBeInstanceOf(EgressDenied);
    expect(policy.refusal('::ffff:127.0.0.1')).toBeInstanceOf(EgressDenied);
    expect(policy.refusal('203.0.113.200')).toBeInstanceOf(EgressDenied);
    expect(policy.refusal('198.51.100.1')).toBeUndefined();
  });

  it('names the host and the address it resolved to', () => {
    expect(byDefault.refusal('169.254.169.254', 'metadata.test')?.message).toBe(
      'destination metadata.test (169.254.169.254) is not allowed by the egress policy (link-local and metadata addresses are always denied)',
    );
  });

  it('refuses a malformed CIDR when built', () => {
    expect(() => egressPolicy({ denyCidrs: ['10.0.0.0/33'] })).toThrow(
      /"10\.0\.0\.0\/33" is not a CIDR/,
    );
  });
});

describe('guarded agents', () => {
  let server: Server;
  let port: number;
  let accepted = 0;
  let watch: ConnectionWatch;
  beforeAll(async () => {
    server = createServer((socket) => {
      accepted += 1;
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => {
    accepted = 0;
    resolved.length = 0;
    watch = watchConnections();
  });
  afterEach(() => watch.stop());

  const get = (agent: http.Agent, host: string) =>
    new Promise<{ status?: number; error?: Error }>((resolve) => {
      const req = http.request({ host, port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode! }));
      });
      req.on('error', (error) => resolve({ error }));
      req.end();
    });

  it('let allowed destinations through, names and literal IPs alike', async () => {
    const agents = guardedAgents(egressPolicy({ resolve }));
    expect(await get(agents.http, '127.0.0.1')).toEqual({ status: 200 });
    expect(await get(agents.http, 'loopback.test')).toEqual({ status: 200 });
    expect(accepted).toBe(2);
    // The watch sees real attempts, so its silence below means something.
    expect(watch.attempts).toEqual([`127.0.0.1:${port}`, `127.0.0.1:${port}`]);
    agents.http.destroy();
  });

  it('refuse the literal 169.254.169.254 before a socket exists: nothing is dialled', async () => {
    const agents = guardedAgents(egressPolicy({ resolve }));
    const { error } = await get(agents.http, '169.254.169.254');
    expect(error).toBeInstanceOf(EgressDenied);
    expect(error!.message).toBe(
      'destination 169.254.169.254 is not allowed by the egress policy (link-local and metadata addresses are always denied)',
    );
    expect(watch.attempts).toEqual([]);
    expect(resolved).toEqual([]);
  });

  it('refuse a name resolving to the metadata address in lookup, before connect', async () => {
    const agents = guardedAgents(egressPolicy({ resolve }));
    const { error } = await get(agents.http, 'metadata.test');
    expect(error).toBeInstanceOf(EgressDenied);
    expect(error!.message).toMatch(
      /^destination metadata\.test \(169\.254\.169\.254\) is not allowed/,
    );
    expect(resolved).toEqual(['metadata.test']);
    expect(watch.attempts).toEqual([]);
  });

  it('refuse a name with one denied address among allowed ones (no rebinding lottery)', async () => {
    const agents = guardedAgents(egressPolicy({ resolve }));
    expect((await get(agents.http, 'mixed.test')).error).toBeInstanceOf(EgressDenied);
    expect(watch.attempts).toEqual([]);
    expect(accepted).toBe(0);
  });

  it('refuse loopback when --egress-deny-cidrs lists it: the local server sees no connection', async () => {
    const agents = guardedAgents(egressPolicy({ resolve, denyCidrs: ['127.0.0.0/8'] }));
    for (const host of ['127.0.0.1', 'loopback.test']) {
      const { error } = await get(agents.http, host);
      expect(error?.message).toMatch(
        /is not allowed by the egress policy \(--egress-deny-cidrs\)$/,
      );
    }
    expect(accepted).toBe(0);
    expect(watch.attempts).toEqual([]);
  });

  it('guard HTTPS the same way, before any TLS handshake', async () => {
    const agents = guardedAgents(egressPolicy({ resolve }));
    for (const host of ['metadata.test', '169.254.169.254']) {
      const error = await new Promise<Error>((resolve) => {
        const req = https.request({ host, port: 443, path: '/', agent: agents.https });
        req.on('error', resolve);
        req.end();
      });
      expect(error).toBeInstanceOf(EgressDenied);
    }
    expect(watch.attempts).toEqual([]);
  });
});
