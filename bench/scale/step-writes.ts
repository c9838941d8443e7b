import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One write of the controller, as the audit log names it. */
export interface ObjectWrite {
  at: number;
  namespace: string;
  name: string;
  /** `resource` or `resource/subresource`. */
  resource: string;
}

/** Writes of the steady weight steps: the middle of each release. */
export interface SteadySteps {
  steps: number;
  writes: number;
  perStep: number;
  /** Writes per steady step, by `resource`. */
  byResource: Record<string, number>;
}

const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * The Canary an object belongs to, by Weir's naming (and Flagger's): the Canary's
 * own name (Canary, HTTPRoute, target Deployment), `<name>-…` (primary, runs,
 * Services) or `<name>.…` (Events). Canary names are `app-<i>`, so the longest
 * matching name wins (`app-1-primary` is app-1's, `app-12` is app-12's).
 */
export function canaryOf(name: string, canaries: ReadonlySet<string>): string | undefined {
  if (canaries.has(name)) return name;
  for (let cut = name.length - 1; cut > 0; cut--) {
    const ch = name[cut];
    if ((ch === '-' || ch === '.') && canaries.has(name.slice(0, cut))) return name.slice(0, cut);
  }
  return undefined;
}

/**
 * Writes per steady weight step. A release's route writes mark its steps (the
 * weight rises 10 → … → max, then returns to 0); the first step also starts the
 * release and the last hands over to the promotion, so only the steps from the
 * second route write up to (not including) the second-to-last are counted, with
 * every write to the Canary's objects in that time.
 */
export function steadyStepWrites(
  writes: readonly ObjectWrite[],
  canaries: readonly { namespace: string; name: string }[],
  routeResource = 'httproutes',
): SteadySteps {
  const names = new Map<string, Set<string>>();
  for (const c of canaries) {
    const set = names.get(c.namespace) ?? new Set<string>();
    set.add(c.name);
    names.set(c.namespace, set);
  }
  const byCanary = new Map<string, ObjectWrite[]>();
  for (const w of writes) {
    const owner = canaryOf(w.name, names.get(w.namespace) ?? new Set());
    if (!owner) continue;
    const key = `${w.namespace}/${owner}`;
    const list = byCanary.get(key) ?? [];
    list.push(w);
    byCanary.set(key, list);
  }
  let steps = 0;
  let total = 0;
  const byResource: Record<string, number> = {};
  for (const list of byCanary.values()) {
    list.sort((a, b) => a.at - b.at);
    const routes = list.filter((w) => w.resource === routeResource);
    if (routes.length < 4) continue;
    const from = routes[1]!.at;
    const to = routes[routes.length - 2]!.at;
    steps += routes.length - 3;
    for (const w of list) {
      if (w.at < from || w.at >= to) continue;
      total += 1;
      byResource[w.resource] = (byResource[w.resource] ?? 0) + 1;
    }
  }
  const per = (v: number) => (steps > 0 ? Number((v / steps).toFixed(2)) : NaN);
  return {
    steps,
    writes: total,
    perStep: per(total),
    byResource: Object.fromEntries(Object.entries(byResource).map(([r, v]) => [r, per(v)])),
  };
}

/** Reads `username`'s writes inside [from, to) from a JSON-lines audit log. */
export async function readWrites(
  file: string,
  username: string,
  from: number,
  to: number,
): Promise<ObjectWrite[]> {
  const out: ObjectWrite[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    let e: {
      verb?: string;
      user?: { username?: string };
      requestReceivedTimestamp?: string;
      objectRef?: { namespace?: string; name?: string; resource?: string; subresource?: string };
    };
    try {
      e = JSON.parse(line);
    } catch {
      continue; // a line cut short by the API server's shutdown
    }
    const ref = e.objectRef;
    if (e.user?.username !== username || !writeVerbs.has(e.verb ?? '') || !ref?.name) continue;
    const at = Date.parse(e.requestReceivedTimestamp ?? '');
    if (!(at >= from && at < to)) continue;
    out.push({
      at,
      namespace: ref.namespace ?? '',
      name: ref.name,
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? ''),
    });
  }
  return out;
}
