import { describe, expect, it } from 'vitest';
import { buildAssets } from '../../../src/dashboard/ui/bundle.js';
import { violations } from './forbidden-apis.js';

describe('buildAssets', () => {
  it('bundles the page into one small ES module and one stylesheet', async () => {
    const assets = await buildAssets();
    const js = assets['app.js'];
    const css = assets['app.css'];
    expect(js.length).toBeGreaterThan(1000);
    expect(css.length).toBeGreaterThan(1000);
    const total = Buffer.byteLength(js) + Buffer.byteLength(css);
    expect(total, `the page is ${total} bytes`).toBeLessThan(150 * 1024);
    // Minified, self-contained, fetching nothing but its own stream and actions.
    expect(js).not.toMatch(/\n {2,}\S/);
    expect(js).not.toMatch(/\brequire\(|\bimport\s*\(|^import\s|sourceMappingURL/m);
    expect(js).toContain('/api/stream');
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(violations(js)).toEqual([]);
    expect(css).not.toMatch(/@import|url\(/i);
    expect(css).toContain('prefers-color-scheme');
  });
});
