import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import * as yaml from 'js-yaml';

/**
 * An audit policy that records, at Metadata level (no bodies), exactly one event
 * per request of `username`: a watch when its response starts (a watch still
 * open at the end has no ResponseComplete), anything else when it completes.
 * Everything else is not audited, which keeps the API server's cost small.
 */
export function auditPolicy(username: string): string {
  return yaml.dump({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      {
        level: 'Metadata',
        users: [username],
        verbs: ['watch'],
        omitStages: ['RequestReceived', 'ResponseComplete'],
      },
      {
        level: 'Metadata',
        users: [username],
        omitStages: ['RequestReceived', 'ResponseStarted'],
      },
      { level: 'None' },
    ],
  });
}

/** The fields of an audit event the bench uses. */
export interface AuditEvent {
  verb: string;
  user?: { username?: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string };
  requestReceivedTimestamp: string;
  responseStatus?: { code?: number };
}

/** Requests in one time window, by verb and by `verb resource[/subresource]`. */
export interface RequestCounts {
  total: number;
  byVerb: Record<string, number>;
  byResource: Record<string, number>;
  /** Answers with a status code ≥ 400, by code. */
  errors: Record<string, number>;
  userAgents: string[];
}

/** A named window [from, to) in epoch ms. */
export interface Window {
  name: string;
  from: number;
  to: number;
}

const emptyCounts = (): RequestCounts => ({
  total: 0,
  byVerb: {},
  byResource: {},
  errors: {},
  userAgents: [],
});

/** Adds one audit event to the counts of the window its request fell in. */
export function countEvent(
  counts: Map<string, RequestCounts>,
  windows: readonly Window[],
  event: AuditEvent,
  username: string,
): void {
  if (event.user?.username !== username) return;
  const at = Date.parse(event.requestReceivedTimestamp);
  const w = windows.find((x) => at >= x.from && at < x.to);
  if (!w) return;
  let c = counts.get(w.name);
  if (!c) counts.set(w.name, (c = emptyCounts()));
  c.total += 1;
  c.byVerb[event.verb] = (c.byVerb[event.verb] ?? 0) + 1;
  const ref = event.objectRef;
  const resource = ref?.resource
    ? `${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}`
    : '(non-resource)';
  const key = `${event.verb} ${resource}`;
  c.byResource[key] = (c.byResource[key] ?? 0) + 1;
  const code = event.responseStatus?.code;
  if (code !== undefined && code >= 400) c.errors[code] = (c.errors[code] ?? 0) + 1;
  if (event.userAgent && !c.userAgents.includes(event.userAgent) && c.userAgents.length < 5)
    c.userAgents.push(event.userAgent);
}

/** Reads a JSON-lines audit log and counts `username`'s requests per window. */
export async function countAuditLog(
  file: string,
  windows: readonly Window[],
  username: string,
): Promise<Map<string, RequestCounts>> {
  const counts = new Map<string, RequestCounts>(windows.map((w) => [w.name, emptyCounts()]));
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    try {
      countEvent(counts, windows, JSON.parse(line) as AuditEvent, username);
    } catch {
      // A line cut short by the API server's shutdown: nothing to count.
    }
  }
  return counts;
}
