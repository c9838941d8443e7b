/**
 * Writes crds/*.yaml from the TypeBox definitions in src/api (the one source of
 * truth). `npm run gen:crds`; test/unit/api/crds.test.ts fails when they drift.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderCrdFiles } from '../src/api/crd-files.js';
import { repoRoot } from '../test/harness/tools.js';

for (const [file, text] of renderCrdFiles()) {
  writeFileSync(path.join(repoRoot, 'crds', file), text);
  console.log(`wrote crds/${file}`);
}
