/**
 * Escaping for chat markdown. Notifications carry text Canary authors control (webhook
 * answers and Prometheus errors in failures and messages, image names), and chat clients
 * render markdown: `[Approve rollback](https://evil)` would become a link in the on-call
 * channel. Escaped text renders as itself.
 */

/**
 * Discord markdown escaped: emphasis, strike-through, code, spoilers and masked links
 * anywhere; mentions and `<…>` syntax (`<@id>`, `<#channel>`, `<t:…>`, `<https://…>`);
 * headings, quotes and lists at the start of a line. A `<` before a space stays, so
 * `81.25% < 99%` reads as written.
 */
export function escapeDiscord(text: string): string {
  return text
    .replace(/[\\*_~`|[\]]/g, '\\$&')
    .replace(/<(?=[@#:!&/a-zA-Z])/g, '\\<')
    .replace(/^([ \t]*)([#>+-]|\d+\.)/gm, '$1\\$2');
}

/**
 * Links neutralised for Adaptive Card markdown (Teams `FactSet` values, which render it):
 * `[` and `]` escaped, so no `[text](url)` forms. Free text goes into `TextRun`s instead,
 * which render no markdown at all.
 */
export function escapeCardLinks(text: string): string {
  return text.replace(/[\\[\]]/g, '\\$&');
}
