import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (two levels above this file). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function pinnedVersion(tool: string, modulePath: string): string {
  const goMod = readFileSync(path.join(repoRoot, 'hack/tools', tool, 'go.mod'), 'utf8');
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = goMod.match(new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm'));
  if (!match?.[1]) throw new Error(`hack/tools/${tool}/go.mod does not pin ${modulePath}`);
  return match[1];
}

/** Versions of the real components, read from the pins in hack/tools. */
export const versions = {
  kubernetes: pinnedVersion('kubernetes', 'k8s.io/kubernetes'),
  etcd: pinnedVersion('kubernetes', 'go.etcd.io/etcd/server/v3'),
  kwok: pinnedVersion('kwok', 'sigs.k8s.io/kwok'),
  helm: pinnedVersion('helm', 'helm.sh/helm/v3'),
};

let cachedToolsDir: string | undefined;

/**
 * The directory holding the Go-built binaries (`bin/`), KWOK stages and router CRDs.
 * Builds them on first use (minutes when cold, instant when cached).
 */
export function toolsDir(): string {
  cachedToolsDir ??= execFileSync('bash', [path.join(repoRoot, 'hack/build-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .at(-1)!;
  return cachedToolsDir;
}

/** Absolute path of a Go-built binary such as `kubectl`. */
export function toolPath(binary: string): string {
  return path.join(toolsDir(), 'bin', binary);
}
