import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { violations } from './forbidden-apis.js';

const dir = join(import.meta.dirname, '../../../src/dashboard/ui');
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('the page uses no API that parses markup or code, or sets inline styles', () => {
  it('finds the sources', () => {
    expect(sources).toEqual(
      expect.arrayContaining(['main.ts', 'dom.ts', 'list.ts', 'detail.ts', 'charts.ts']),
    );
  });

  it.each(sources)('%s', (file) => {
    expect(violations(readFileSync(join(dir, file), 'utf8'))).toEqual([]);
  });

  it('fetches nothing from a stylesheet (no @import, no url())', () => {
    const css = readFileSync(join(dir, 'app.css'), 'utf8');
    expect(css).not.toMatch(/@import|url\(/i);
  });

  it('catches each of them (the check can fail)', () => {
    const samples = [
      'el.innerHTML = s',
      "el['outerHTML'] = s",
      "el.insertAdjacentHTML('beforeend', s)",
      'range.createContextualFragment(s)',
      'el.setHTMLUnsafe(s)',
      'new DOMParser()',
      "frame.setAttribute('srcdoc', s)",
      'document.write(s)',
      'document .writeln(s)',
      'eval(s)',
      'new Function(s)',
      'Function(s)()',
      'el.style.color = s',
      'el.style = s',
      'rule.cssText = s',
      "el.setAttribute('style', s)",
      'el.setAttribute("onclick", s)',
    ];
    for (const sample of samples) expect(violations(sample), sample).not.toEqual([]);
    expect(violations("el.setAttribute('class', 'x'); el.textContent = s; el.styleSheet")).toEqual(
      [],
    );
  });
});
