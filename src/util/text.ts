/**
 * Text that came from outside (webhook answers, Prometheus errors, image names) made safe
 * to store and to show. Terminals interpret control characters (ESC sequences repaint the
 * screen, OSC 8 makes links, OSC 52 writes the clipboard), bidi overrides reorder what a
 * reader sees, and zero-width or tag characters hide text. Each is replaced by a visible
 * escape, so nothing is lost but nothing acts.
 */

/**
 * What {@link sanitize} escapes: C0 controls except `\n`; DEL; C1 controls; the soft hyphen;
 * the Arabic letter mark; the Mongolian vowel separator; zero-width spaces and joiners, LRM
 * and RLM; line and paragraph separators; bidi embeddings, overrides and isolates;
 * invisible operators and the word joiner; the BOM (zero-width no-break space); Unicode tag
 * characters; and lone surrogates.
 */
const unsafe =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\0-\x09\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}\ud800-\udfff]/u;
const unsafeAll = new RegExp(unsafe.source, 'gu');

/** The visible escape of one code point: `\x1b` up to U+00FF, else `\u{202e}`. */
function escapeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/**
 * The text with every control, bidi, zero-width and invisible character (see `unsafe`)
 * replaced by a visible escape such as `\x1b` or `\u{202e}`. Newlines are kept. Pure.
 */
export function sanitize(text: string): string {
  return text.replace(unsafeAll, escapeCodePoint);
}

/**
 * {@link sanitize}d text of at most `maxChars` UTF-16 units; a cut text ends with `…`.
 * Escapes and surrogate pairs are never split. Reads only as much of `text` as it keeps,
 * so a megabyte of input costs no more than `maxChars`.
 */
export function bounded(text: string, maxChars: number): string {
  const pieces: string[] = [];
  let length = 0;
  for (const ch of text) {
    const piece = unsafe.test(ch) ? escapeCodePoint(ch) : ch;
    if (length + piece.length > maxChars) {
      while (pieces.length > 0 && length + 1 > maxChars) length -= pieces.pop()!.length;
      return maxChars >= 1 ? `${pieces.join('')}…` : '';
    }
    pieces.push(piece);
    length += piece.length;
  }
  return pieces.join('');
}

/** The text on one line: runs of whitespace (newlines included) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
