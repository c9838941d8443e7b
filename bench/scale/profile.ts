import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The parts of a V8 .cpuprofile the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** Self time of one function or package, in ms and as a share of the profile. */
export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

/** Where a script lives, short: `pkg:<name>` for node_modules, else the repo-relative path. */
export function ownerOf(url: string): string {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  if (url.startsWith('node:')) return url;
  const src = /\/((?:src|bench|test)\/.*)$/.exec(url.replace(/^file:\/\//, ''));
  return src ? src[1]! : url;
}

/** A coarse bucket for an owner, to see at a glance where the time goes. */
export function categoryOf(owner: string): string {
  if (/tls|secure-context|crypto/.test(owner)) return 'TLS and crypto';
  if (/_http|node-fetch|node:net|stream|node:events|undici/.test(owner))
    return 'HTTP, sockets, streams';
  if (owner === '(garbage collector)') return 'garbage collection';
  if (owner.startsWith('pkg:@kubernetes')) return 'client-node (serialisation, config)';
  if (owner.startsWith('pkg:')) return 'other packages';
  if (/^(src|bench|test)\//.test(owner)) return 'Weir code';
  if (owner.startsWith('node:')) return 'other Node internals';
  return 'native and V8 (JSON, regexps, program)';
}

/**
 * Self time per function, per owner (package or file) and per category of a CPU
 * profile, top `limit` of each, as shares of the busy time (everything but
 * `(idle)`, the event loop waiting).
 */
export function summarizeProfile(
  profile: CpuProfile,
  limit = 15,
): {
  totalMs: number;
  busyMs: number;
  functions: HotSpot[];
  owners: HotSpot[];
  categories: HotSpot[];
} {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
  const msPerHit = totalMs / hits;
  const fns = new Map<string, number>();
  const owners = new Map<string, number>();
  const categories = new Map<string, number>();
  let busy = 0;
  for (const n of profile.nodes) {
    const h = n.hitCount ?? 0;
    const f = n.callFrame;
    if (h === 0 || f.functionName === '(idle)') continue;
    busy += h;
    const owner = f.url ? ownerOf(f.url) : f.functionName || '(native/V8)';
    const name = f.url
      ? `${f.functionName || '(anonymous)'} ${owner}:${f.lineNumber + 1}`
      : f.functionName || '(anonymous)';
    fns.set(name, (fns.get(name) ?? 0) + h);
    owners.set(owner, (owners.get(owner) ?? 0) + h);
    const c = categoryOf(owner);
    categories.set(c, (categories.get(c) ?? 0) + h);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, h]) => ({
        name,
        selfMs: Math.round(h * msPerHit),
        share: Number((h / (busy || 1)).toFixed(3)),
      }));
  return {
    totalMs: Math.round(totalMs),
    busyMs: Math.round(busy * msPerHit),
    functions: top(fns),
    owners: top(owners),
    categories: top(categories),
  };
}

/** Summaries of every .cpuprofile file in a directory (written when the process exited). */
export async function summarizeProfiles(
  dir: string,
): Promise<{ file: string; summary: ReturnType<typeof summarizeProfile> }[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.cpuprofile'),
  );
  const out = [];
  for (const f of files) {
    const profile = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as CpuProfile;
    out.push({ file: path.join(dir, f), summary: summarizeProfile(profile) });
  }
  return out;
}
