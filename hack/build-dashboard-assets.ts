/**
 * Writes the dashboard page's assets into the compiled tree (`npm run build`), so that
 * a compiled Weir, the image among them, serves them without esbuild: see
 * src/dashboard/ui/bundle.ts.
 */
import { writeAssets } from '../src/dashboard/ui/bundle.js';

const dir = process.argv[2] ?? 'dist/src/dashboard/ui/assets';
await writeAssets(dir);
process.stdout.write(`Dashboard assets written to ${dir}\n`);
