import * as yaml from 'js-yaml';
import { crdFor, group, kinds } from './crds.js';

const header =
  '# Generated from src/api by `npm run gen:crds`. Do not edit: change the schema and regenerate.\n';

/** The CRD manifests as committed in crds/: file name and YAML text, one per kind. */
export function renderCrdFiles(): [string, string][] {
  return kinds.map((def) => [
    `${group}_${def.plural}.yaml`,
    header + yaml.dump(crdFor(def), { lineWidth: 100, noRefs: true, sortKeys: false }),
  ]);
}
