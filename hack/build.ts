/**
 * `npm run build`: Weir as it ships (ADR 0023). esbuild bundles the controller
 * (src/main.ts → dist/weir-controller.mjs) and the CLI (src/cli/weir.ts → dist/weir.mjs)
 * with every runtime dependency inside, tree-shaken, so the image needs no node_modules.
 * Code that only some commands run (lint, convert, the dashboard) sits in chunks of its
 * own (dist/chunks/) and is read from disk only when a command imports it. The dashboard
 * page's assets go to dist/assets/, next to the bundles, where src/dashboard/ui/bundle.ts
 * looks for them.
 *
 *   node --import tsx hack/build.ts [--out DIR] [--report]
 *
 * `--report` prints what each output holds, by package (from esbuild's metafile).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { writeAssets } from '../src/dashboard/ui/bundle.js';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'dist' }, report: { type: 'boolean' } },
});
const out = path.resolve(values.out!);

await rm(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { 'weir-controller': 'src/main.ts', weir: 'src/cli/weir.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node26',
  // Whitespace and syntax only: names stay as written, so stack traces stay readable.
  // V8 keeps every module's source text in the heap; this halves it (ADR 0023).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // esbuild builds the dashboard page from source only when no prebuilt assets are
  // there; the bundles always ship with them. ws loads its optional native helpers
  // inside a try.
  external: ['esbuild', 'bufferutil', 'utf-8-validate'],
  // Some CommonJS dependencies call require() for Node's own modules.
  banner: {
    js: "import { createRequire as weirCreateRequire } from 'node:module'; const require = weirCreateRequire(import.meta.url);",
  },
});
await writeAssets(path.join(out, 'assets'));

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs'));
const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
process.stdout.write(
  `Built ${outputs.length} files (${kib(total)}) and the dashboard assets in ${path.relative(process.cwd(), out) || '.'}\n`,
);
if (values.report) process.stdout.write(report(result.metafile));

/** Each output's size and its biggest packages. */
function report(metafile: Metafile): string {
  const lines: string[] = [];
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('.mjs')) continue;
    const byPackage = new Map<string, number>();
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'weir';
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    }
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8);
    lines.push(
      `${path.relative(process.cwd(), file)}: ${kib(output.bytes)}`,
      ...top.map(([pkg, bytes]) => `  ${kib(bytes).padStart(9)}  ${pkg}`),
    );
  }
  return lines.join('\n') + '\n';
}
