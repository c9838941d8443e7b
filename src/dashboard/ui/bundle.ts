/**
 * Builds the page's two assets in memory with esbuild: one ES module (`main.ts` and
 * what it imports) and one stylesheet (`app.css`). Runs in Node, at the dashboard's
 * start (`weir dashboard`); esbuild is a build-time dependency (ADR 0022), imported only
 * when called, so loading this module needs none.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DashboardAssets } from '../server.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Bundles and minifies the page; throws esbuild's errors when a source does not build. */
export async function buildAssets(): Promise<DashboardAssets> {
  const entries = { js: here('./main.ts'), css: here('./app.css') };
  // tsc compiles this module into dist/ but not the page's sources (browser code, with
  // their own tsconfig.json): a compiled Weir has to be given built assets instead.
  if (!existsSync(entries.js))
    throw new Error(
      `The dashboard page's sources are not next to ${here('.')}: build its assets from src/ (buildAssets) and serve those`,
    );
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entries.js, entries.css],
    outdir: '/weir-dashboard',
    entryNames: '[name]',
    write: false,
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    platform: 'browser',
    // Glyphs and text as UTF-8 (the server sends charset=utf-8), not \u escapes.
    charset: 'utf8',
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'silent',
  });
  const out = (ext: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`esbuild wrote no ${ext} file for the dashboard page`);
    return file.text;
  };
  return { 'app.js': out('.js'), 'app.css': out('.css') };
}
