// Import rules for src/ (`npm run lint` runs them): no import circles, and no import
// that runs upward between folders. Each layer may import only the layers before it
// (and its own); a folder's rank is its index in `layers`.
const layers = [
  ['util', 'errors.ts', 'logger.ts'],
  ['api', 'stats'],
  ['machine'],
  ['contracts'],
  ['kube', 'workloads'],
  ['routers', 'analysis', 'webhooks'],
  ['notifications'],
  ['lint', 'convert'],
  ['controller'],
  ['dashboard'],
  ['http', 'cli', 'config.ts', 'app.ts', 'main.ts'],
];

const pattern = (names) =>
  `^src/(${names.map((n) => n.replace('.', '\\.') + (n.endsWith('.ts') ? '$' : '/')).join('|')})`;

const upward = layers.slice(0, -1).map((own, rank) => ({
  name: `upward-from-${own.join('-').replaceAll('.ts', '')}`,
  comment: `${own.join(', ')} may import only the layers below it (see layers in .dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: pattern(own) },
  to: { path: pattern(layers.slice(rank + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'An import circle: the modules cannot be read, tested or loaded one before the other',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'not-in-a-layer',
      comment:
        'Every folder and top-level file of src/ has a place in layers (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/', pathNot: pattern(layers.flat()) },
      to: {},
    },
    {
      name: 'imports-a-module-in-no-layer',
      comment:
        'Every folder and top-level file of src/ has a place in layers (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: pattern(layers.flat()) },
    },
  ],
  options: {
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
