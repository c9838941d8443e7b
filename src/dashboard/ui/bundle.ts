/**
 * The page's two assets: one ES module (`main.ts` and what it imports) and one
 * stylesheet (`app.css`). From a source checkout they are built in memory with esbuild
 * at the dashboard's start; `npm run build` writes them next to the bundles
 * (`dist/assets/`, found from this module's URL, which is then the bundle's), which is
 * how the image ships them: esbuild is a build-time dependency (ADR 0022, 0023),
 * imported only when called, so loading this module needs none.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardAssets } from '../server.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const assetNames = ['app.js', 'app.css'] as const;

/**
 * The prebuilt assets when there are any, else built from the sources. In the bundles
 * this module's code sits in dist/chunks/, and the assets in dist/assets/.
 */
export async function pageAssets(): Promise<DashboardAssets> {
  const dir = ['./assets/', '../assets/'].map(here).find((d) => existsSync(join(d, 'app.js')));
  if (!dir) return buildAssets();
  const [js, css] = await Promise.all(assetNames.map((n) => readFile(join(dir, n), 'utf8')));
  return { 'app.js': js!, 'app.css': css! };
}

/** Builds the assets and writes them into `dir` (`npm run build`: dist/assets, next to the bundles). */
export async function writeAssets(dir: string): Promise<void> {
  const assets = await buildAssets();
  await mkdir(dir, { recursive: true });
  await Promise.all(assetNames.map((n) => writeFile(join(dir, n), assets[n])));
}

/** Bundles and minifies the page; throws esbuild's errors when a source does not build. */
export async function buildAssets(): Promise<DashboardAssets> {
  const entries = { js: here('./main.ts'), css: here('./app.css') };
  // Outside a source checkout (the bundles in dist/) the page's sources are not there:
  // a built Weir has to be given built assets instead.
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
