import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { EgressDenied } from '../errors.js';

/**
 * Where Weir's outbound requests may go. Canary authors choose the URLs of webhooks and
 * Prometheus servers, and Weir runs as one shared controller, so without a policy it would
 * POST for them to cloud metadata, the API server or any in-cluster service.
 *
 * The check runs at connect time, on the address actually dialled: in the agents' `lookup`
 * for names (so DNS rebinding cannot swap a checked name for a denied address) and in
 * `createConnection` for literal IPs, which Node connects to without calling `lookup`.
 * Either way the refusal comes before a socket exists: no packet is sent.
 */

/** A CIDR block: `10.0.0.0/8`, `fd00::/8`; a bare address means all its bits. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses `address/prefix` (or a bare address); undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(bits)) || prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Always denied: link-local (169.254.169.254 is the metadata service of AWS, GCP, Azure and
 * others; fe80::/10), AWS's IPv6 metadata address, and the "this host" addresses 0.0.0.0/8
 * and ::, which reach loopback whatever the deny list says about 127.0.0.0/8.
 */
export const alwaysDeniedCidrs = [
  '169.254.0.0/16',
  'fe80::/10',
  'fd00:ec2::254/128',
  '0.0.0.0/8',
  '::/128',
] as const;

/** Denied with `--egress-deny-private`: RFC 1918, carrier-grade NAT (RFC 6598) and unique local IPv6. */
export const privateCidrs = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
] as const;

/** Options for {@link egressPolicy}. */
export interface EgressPolicyOptions {
  /** Extra CIDRs to deny (`--egress-deny-cidrs`), e.g. `127.0.0.0/8` to deny loopback too. */
  denyCidrs?: readonly string[];
  /** Also deny the private ranges of {@link privateCidrs} (`--egress-deny-private`). */
  denyPrivate?: boolean;
  /** Resolves names; `dns.lookup` by default. Tests inject one to map a name to an address. */
  resolve?: LookupFunction;
}

/** The egress policy: a pure check, and a `lookup` that applies it. */
export interface EgressPolicy {
  /** Why `address` (an IP) may not be reached, or undefined when it may. */
  refusal(address: string, host?: string): EgressDenied | undefined;
  /** Resolves like `dns.lookup`, then refuses when any resolved address is denied. */
  readonly lookup: LookupFunction;
}

interface Rule {
  list: BlockList;
  why: string;
}

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`"${text}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return list;
}

/** Builds the policy; throws on a malformed CIDR (config.ts validates the flag first). */
export function egressPolicy(options: EgressPolicyOptions = {}): EgressPolicy {
  const rules: Rule[] = [
    {
      list: blockList(alwaysDeniedCidrs),
      why: 'link-local and metadata addresses are always denied',
    },
    ...(options.denyPrivate
      ? [{ list: blockList(privateCidrs), why: '--egress-deny-private' }]
      : []),
    ...(options.denyCidrs?.length
      ? [{ list: blockList(options.denyCidrs), why: '--egress-deny-cidrs' }]
      : []),
  ];
  const resolve = options.resolve ?? (dns.lookup as unknown as LookupFunction);
  const refusal = (address: string, host?: string): EgressDenied | undefined => {
    const bare = unbracket(address);
    const family = isIP(bare);
    // Not an address at all: nothing to dial, so nothing to allow.
    if (family === 0) return new EgressDenied(bare, `destination ${bare} is not an IP address`);
    const rule = rules.find((r) => r.list.check(bare, family === 4 ? 'ipv4' : 'ipv6'));
    if (!rule) return undefined;
    const where = host && unbracket(host) !== bare ? `${unbracket(host)} (${bare})` : bare;
    return new EgressDenied(
      bare,
      `destination ${where} is not allowed by the egress policy (${rule.why})`,
    );
  };
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname, lookupOptions, (err, address, family) => {
      if (err) return callback(err, address, family);
      const all = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
      // A name with one denied address among allowed ones is refused whole: the
      // connection could land on any of them (happy eyeballs tries several).
      for (const a of all) {
        const denied = refusal(a.address, hostname);
        if (denied) return callback(denied, '', 0);
      }
      callback(null, address, family);
    });
  };
  return { refusal, lookup };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Options for {@link guardedAgents}. */
export interface GuardedAgentOptions {
  /** Verify TLS certificates (false for `insecureSkipVerify`). Default true. */
  rejectUnauthorized?: boolean;
  /** Sockets per host (Node's `maxSockets`). Default 64. */
  maxSockets?: number;
  /** An idle keep-alive socket is closed after this. Default 15 s. */
  freeSocketTimeoutMs?: number;
}

/** Idle keep-alive sockets close after this, so an evicted provider leaves no socket open. */
export const freeSocketTimeoutMs = 15_000;

/**
 * Keep-alive HTTP and HTTPS agents that refuse, before connecting, every destination the
 * policy denies. Node's agent `timeout` applies to free sockets only while no request
 * listens, which makes it an idle timeout for pooled connections.
 */
export function guardedAgents(
  policy: EgressPolicy,
  options: GuardedAgentOptions = {},
): { http: http.Agent; https: https.Agent } {
  const base = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    timeout: options.freeSocketTimeoutMs ?? freeSocketTimeoutMs,
    lookup: policy.lookup,
  };
  return {
    http: new GuardedHttpAgent(policy, base),
    https: new GuardedHttpsAgent(policy, {
      ...base,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    }),
  };
}

type Connect = http.Agent['createConnection'];
type ConnectOptions = Parameters<Connect>[0];
type ConnectCallback = NonNullable<Parameters<Connect>[1]>;

/** The refusal for a literal IP destination (names are checked in `lookup` instead). */
function literalRefusal(policy: EgressPolicy, options: ConnectOptions): EgressDenied | undefined {
  const host = unbracket(String(options.host ?? options.hostname ?? ''));
  return isIP(host) !== 0 ? policy.refusal(host) : undefined;
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    private readonly policy: EgressPolicy,
    options: http.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: ConnectOptions,
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    const denied = literalRefusal(this.policy, options);
    if (!denied) return super.createConnection(options, callback);
    callback?.(denied, undefined as never);
    return undefined;
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    private readonly policy: EgressPolicy,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: ConnectOptions,
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    const denied = literalRefusal(this.policy, options);
    if (!denied) return super.createConnection(options, callback);
    callback?.(denied, undefined as never);
    return undefined;
  }
}
