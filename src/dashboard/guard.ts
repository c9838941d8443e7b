/**
 * The dashboard's request checks, pure: which Host headers it answers (DNS rebinding)
 * and which requests may write (cross-site requests). See docs/adr/0022-dashboard.md.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Sent with every response, errors included. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** The header a write must carry: a cross-origin page cannot send it without a preflight. */
export const actionHeader = 'x-weir-action';

const loopback = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The Host headers the server answers: its bound address and port, the loopback
 * names when it is bound to loopback, and the `--allowed-host` values (an entry
 * without a port allows any port). Lowercase.
 */
export function ownHosts(
  address: string,
  port: number,
  allowedHosts: readonly string[] = [],
): { exact: Set<string>; anyPort: Set<string> } {
  const withPort = (host: string) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const exact = new Set([withPort(address.toLowerCase())]);
  if (loopback.has(address)) for (const h of loopback) exact.add(withPort(h));
  const anyPort = new Set<string>();
  for (const h of allowedHosts.map((x) => x.trim().toLowerCase()).filter(Boolean)) {
    if (/:\d+$/.test(h)) exact.add(h);
    else anyPort.add(h.replace(/^\[(.*)\]$/, '$1'));
  }
  return { exact, anyPort };
}

/** Whether the server answers this Host header. */
export function hostAllowed(
  host: string | undefined,
  hosts: { exact: Set<string>; anyPort: Set<string> },
): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  if (hosts.exact.has(h)) return true;
  const name = h.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return hosts.anyPort.has(name);
}

/**
 * Why a write is refused, or undefined when it may go on. A write needs
 * `Content-Type: application/json`, an `Origin` naming the host it was sent to
 * (the Host header, already checked against the server's own), and the header
 * `X-Weir-Action: 1`. A form or a cross-origin `fetch` cannot send all three
 * without a preflight, and the server answers no preflight.
 */
export function writeRefusal(headers: IncomingHttpHeaders): string | undefined {
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return 'An action needs Content-Type: application/json';
  const origin = headers.origin;
  let originHost: string | undefined;
  try {
    const url = origin ? new URL(origin) : undefined;
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) originHost = url.host;
  } catch {
    originHost = undefined;
  }
  if (!originHost || originHost !== headers.host?.toLowerCase())
    return `An action needs an Origin header equal to this dashboard's own origin (got ${origin ? JSON.stringify(origin) : 'none'})`;
  if (headers[actionHeader] !== '1') return 'An action needs the header X-Weir-Action: 1';
  return undefined;
}
