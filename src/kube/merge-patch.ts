/**
 * A JSON merge patch (RFC 7396) that turns `previous` into `next`: `next` itself,
 * plus `null` for every key of `previous` that `next` no longer has, at any depth
 * of plain objects (arrays are replaced whole by a merge patch anyway). Without the
 * nulls a merge patch keeps what it does not mention: a field the release machine
 * dropped (a cleared deadline, a consumed message) would stay in the status for good.
 */
export function mergePatchOf(previous: unknown, next: unknown): unknown {
  if (!isPlainObject(previous) || !isPlainObject(next)) return next;
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(next)) patch[key] = mergePatchOf(previous[key], value);
  for (const key of Object.keys(previous)) if (!(key in next)) patch[key] = null;
  return patch;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
