import { describe, expect, it } from 'vitest';
import { bounded, oneLine, sanitize } from '../../../src/util/text.js';

/** Code points a terminal or a reader would act on or not see; none may survive sanitize. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const dangerous = /[\0-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/u;

describe('sanitize', () => {
  it.each([
    ['ESC sequences', '\x1b[2J\x1b[Hok', '\\x1b[2J\\x1b[Hok'],
    ['an OSC 8 link ended by BEL', '\x1b]8;;https://e\x07click', '\\x1b]8;;https://e\\x07click'],
    ['C1 CSI and NEL', 'a\u009b31mb\u0085c', 'a\\x9b31mb\\x85c'],
    ['DEL, backspace, CR and TAB', 'x\x7f\x08\r\t', 'x\\x7f\\x08\\x0d\\x09'],
    ['a bidi override', 'abc\u202Egnp.exe', 'abc\\u{202e}gnp.exe'],
    ['bidi isolates', '\u2066x\u2069', '\\u{2066}x\\u{2069}'],
    ['zero-width characters', 'a\u200Bb\u200Dc\uFEFF', 'a\\u{200b}b\\u{200d}c\\u{feff}'],
    ['Unicode tag characters', 'hi\u{E0041}\u{E0042}', 'hi\\u{e0041}\\u{e0042}'],
    ['a lone surrogate', 'x\uD800y', 'x\\u{d800}y'],
  ])('escapes %s visibly', (_what, input, expected) => {
    expect(sanitize(input)).toBe(expected);
    expect(sanitize(input)).not.toMatch(dangerous);
  });

  it('keeps newlines, ordinary Unicode and emoji as they are', () => {
    const text = 'line one\nÄrger über 50 % → ✔ 🚀 日本語';
    expect(sanitize(text)).toBe(text);
  });
});

describe('bounded', () => {
  it('returns short text sanitized and whole', () => {
    expect(bounded('ok\x07', 10)).toBe('ok\\x07');
  });

  it('cuts long text to maxChars, ending with …', () => {
    const cut = bounded('x'.repeat(1000), 256);
    expect(cut).toHaveLength(256);
    expect(cut.endsWith('x…')).toBe(true);
  });

  it('never splits an escape or a surrogate pair', () => {
    // 'ab' then an escape of 4 characters: the escape fits before the ellipsis at 7, not at 6.
    expect(bounded('ab\x1bcdef', 7)).toBe('ab\\x1b…');
    expect(bounded('ab\x1bcdef', 6)).toBe('ab…');
    expect(bounded('a🚀🚀🚀', 4)).toBe('a🚀…');
  });

  it('reads only what it keeps: 50 MB of input costs no more than the bound', () => {
    const huge = '\x1b'.repeat(50_000_000);
    const started = performance.now();
    expect(bounded(huge, 100).length).toBeLessThanOrEqual(100);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('gives an empty string for a bound of 0', () => {
    expect(bounded('abc', 0)).toBe('');
  });
});

describe('oneLine', () => {
  it('folds every run of whitespace, newlines included, into one space', () => {
    expect(oneLine('  a\r\n\tb   c \n')).toBe('a b c');
  });
});
