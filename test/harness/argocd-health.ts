import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './tools.js';

/** Where the chart ships Argo CD's health check for the Canary. */
export const argoHealthScript = path.join(repoRoot, 'charts/weir/files/argocd-canary-health.lua');

/** A Lua 5.1 literal for a JSON value (strings byte-escaped, so any UTF-8 survives). */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string')
    return `"${[...Buffer.from(value, 'utf8')]
      .map((b) =>
        b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b}`,
      )
      .join('')}"`;
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `[${luaLiteral(k)}] = ${luaLiteral(v)}`)
    .join(', ')}}`;
}

/**
 * Runs the chart's Argo CD health check on an object with Debian's `lua5.1`, as
 * Argo CD does: `obj` is a global, the script's top level returns `hs`.
 */
export function argoHealth(obj: unknown): { status: string; message: string } {
  const chunk = [
    `obj = ${luaLiteral(obj)}`,
    `local hs = (function()\n${readFileSync(argoHealthScript, 'utf8')}\nend)()`,
    'io.write(hs.status, "\\n", hs.message or "")',
  ].join('\n');
  const out = execFileSync('lua5.1', ['-'], { input: chunk, encoding: 'utf8' });
  const [status = '', ...message] = out.split('\n');
  return { status, message: message.join('\n') };
}
