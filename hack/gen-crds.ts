/**
 * Writes crds/*.yaml and the Helm chart's copies (charts/weir/crds/) from the
 * TypeBox definitions in src/api (the one source of truth). `npm run gen:crds`;
 * test/unit/api/crds.test.ts fails when either drifts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderCrdFiles } from '../src/api/crd-files.js';
import { repoRoot } from '../test/harness/tools.js';

for (const dir of ['crds', 'charts/weir/crds']) {
  mkdirSync(path.join(repoRoot, dir), { recursive: true });
  for (const [file, text] of renderCrdFiles()) {
    writeFileSync(path.join(repoRoot, dir, file), text);
    console.log(`wrote ${dir}/${file}`);
  }
}
