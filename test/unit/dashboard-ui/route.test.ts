import { describe, expect, it } from 'vitest';
import { actionUrl, canaryHref, parseRoute, streamUrl } from '../../../src/dashboard/ui/route.js';

describe('routes', () => {
  it('reads the list and one Canary from the path', () => {
    expect(parseRoute('/')).toEqual({ page: 'list' });
    expect(parseRoute('/canaries/shop/frontend')).toEqual({
      page: 'detail',
      namespace: 'shop',
      name: 'frontend',
    });
    expect(parseRoute('/canaries/shop/frontend.v2')).toMatchObject({ name: 'frontend.v2' });
  });

  it.each([
    '/canaries/shop',
    '/canaries/shop/frontend/extra',
    '/canaries/Shop/frontend',
    '/canaries/shop/%E0%A4%A',
    '/canaries/shop/a%2Fb',
    '/canaries/-shop/frontend',
    '/app.js',
    '',
  ])('knows no page at %j', (path) => expect(parseRoute(path)).toEqual({ page: 'unknown' }));

  it('links, streams and acts on the same Canary', () => {
    expect(canaryHref('shop', 'frontend')).toBe('/canaries/shop/frontend');
    expect(parseRoute(canaryHref('shop', 'front.end'))).toMatchObject({ name: 'front.end' });
    expect(streamUrl({ page: 'list' })).toBe('/api/stream');
    expect(streamUrl({ page: 'detail', namespace: 'shop', name: 'frontend' })).toBe(
      '/api/stream?canary=shop%2Ffrontend',
    );
    expect(
      new URL(streamUrl(parseRoute('/canaries/a/b')), 'http://x').searchParams.get('canary'),
    ).toBe('a/b');
    expect(actionUrl('shop', 'frontend', 'promote')).toBe(
      '/api/canaries/shop/frontend/actions/promote',
    );
  });
});
