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

/** A zero-width space: invisible, and it ends any markup token the character before began. */
const zwsp = '\u200b';

/**
 * Rocket.Chat markdown neutralised: a zero-width space after every character that can open
 * markup (emphasis, code, links, `<url|text>`, `@all`/`@here`/`@user` mentions and emoji), so
 * the text renders as written, looks the same, and pings no one. Rocket.Chat has no escape
 * character that every client honours, so nothing is escaped with backslashes.
 */
export function neutraliseRocket(text: string): string {
  return text.replace(/[*_~`[\]<@#:|]/g, `$&${zwsp}`);
}

/**
 * HTML escaped for Google Chat card text (`textParagraph`, `decoratedText`), which renders a
 * small HTML subset (`<b>`, `<a href>`, `<font>`): every tag becomes text.
 */
export function escapeChatHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
