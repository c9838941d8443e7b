/**
 * The page's sources may not turn strings into markup or code, nor set inline styles
 * (ADR 0022: cluster data reaches the DOM as text and attributes only; the CSP allows no
 * inline style or script). eslint.config.js says the same for the syntax; this reads the
 * files as text, so a comment or a string that names these fails too, which keeps them
 * out of the page's sources entirely.
 */
export const forbidden: [RegExp, string][] = [
  [/\binnerHTML\b/, 'innerHTML'],
  [/\bouterHTML\b/, 'outerHTML'],
  [/\binsertAdjacentHTML\b/, 'insertAdjacentHTML'],
  [/\bcreateContextualFragment\b/, 'createContextualFragment'],
  [/\b(set|parse)HTMLUnsafe\b/, 'setHTMLUnsafe'],
  [/\bDOMParser\b/, 'DOMParser'],
  [/\bsrcdoc\b/, 'srcdoc'],
  [/\bdocument\s*\.\s*write(ln)?\b/, 'document.write'],
  [/\beval\s*\(/, 'eval'],
  [/\bnew\s+Function\b|\bFunction\s*\(/, 'new Function'],
  [/\.\s*style\b|\bcssText\b/, 'inline style'],
  [/setAttribute\(\s*['"`](style|on)/i, 'style or event-handler attribute'],
];

/** The names of the forbidden APIs that `source` uses. */
export const violations = (source: string): string[] =>
  forbidden.filter(([pattern]) => pattern.test(source)).map(([, name]) => name);
