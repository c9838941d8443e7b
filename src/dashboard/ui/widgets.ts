/** Small pieces both pages draw the same way. */
import { h, s } from './dom.js';
import { clampWeight, phaseGlyph, phaseTone } from './format.js';

/** The weight as a bar: SVG geometry is an attribute, so no inline style is needed. */
export const weightBar = (weight: number) =>
  s(
    'svg',
    { class: 'bar', viewBox: '0 0 100 8', 'aria-hidden': 'true', focusable: 'false' },
    s('rect', { class: 'bar-track', width: 100, height: 8 }),
    s('rect', { class: 'bar-fill', width: clampWeight(weight), height: 8 }),
  );

/** A phase as glyph and name (the tone picks its colour; the other two carry it anyway). */
export const phaseLabel = (phase: string) =>
  h(
    'span',
    { class: `phase tone-${phaseTone(phase)}` },
    h('span', { class: 'glyph', 'aria-hidden': 'true' }, phaseGlyph(phase)),
    ` ${phase}`,
  );
