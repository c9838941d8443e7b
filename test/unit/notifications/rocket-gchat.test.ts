import { describe, expect, it } from 'vitest';
import { googleChatMessage } from '../../../src/notifications/gchat-notifier.js';
import { notificationFor } from '../../../src/notifications/notification.js';
import { buildNotifiers } from '../../../src/notifications/notifiers.js';
import { rocketMessage } from '../../../src/notifications/rocket-notifier.js';
import { context, rolledBackEntry } from './fixtures.js';

const rolledBack = notificationFor(rolledBackEntry, context)!;
const link = '[Approve rollback](https://evil.example/approve)';
const hostile = {
  ...rolledBack,
  message: `**URGENT** ${link} @all <users/all> <https://evil.example|click> <b>bold</b>`,
  failures: [`webhook load (rollout): HTTP 500: ${link}`],
  images: { from: ['[x](https://evil.example/img)'], to: ['app:2'] },
};
const zwsp = '\u200b';
const visible = (text: string) => text.replaceAll(zwsp, '');

/** Every string in a message, depth first. */
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value && typeof value === 'object'
      ? Object.values(value).flatMap(strings)
      : [];

describe('Rocket.Chat and Google Chat messages', () => {
  it('are registered for the AlertProvider types rocket and gchat', () => {
    const registry = buildNotifiers();
    for (const type of ['rocket', 'gchat']) expect(registry.resolve(type)).toMatchObject({ type });
  });

  it('carry the same facts as the other formats', () => {
    const rocket = JSON.stringify(
      rocketMessage(rolledBack, { channel: '#releases', username: 'weir' }),
    );
    const gchat = JSON.stringify(googleChatMessage(rolledBack));
    for (const fact of [
      'shop/podinfo',
      '5f8c2d1e9a',
      'request-success-rate 81.25%',
      'Revert the commit',
    ]) {
      expect(visible(rocket)).toContain(fact);
      expect(gchat).toContain(fact);
    }
    const r = rocketMessage(rolledBack, { channel: '#releases', username: 'weir' });
    expect(r).toMatchObject({ channel: '#releases', alias: 'weir' });
    expect(r.attachments[0]!.color).toBe('#d40e0d');
  });

  it('Rocket.Chat: untrusted text reads as written but opens no link, mention or emphasis', () => {
    const m = rocketMessage(hostile, {});
    const text = m.attachments[0]!.text;
    expect(visible(text)).toBe(`${hostile.message}\n✗ ${hostile.failures[0]}`);
    // Every markup opener is followed by a zero-width space.
    const a = m.attachments[0]!;
    for (const s of [m.text, a.title, a.text, ...a.fields.map((f) => f.value)])
      expect(s).not.toMatch(/[*_~`[\]<@#:|](?!\u200b)/);
    const images = m.attachments[0]!.fields.find((f) => f.title === 'Images')!;
    expect(visible(images.value)).toBe('[x](https://evil.example/img) → app:2');
  });

  it('Google Chat: card text is HTML-escaped, and the plain text holds only the title', () => {
    const m = googleChatMessage(hostile);
    expect(m.text).toBe(hostile.title);
    const card = JSON.stringify(m.cardsV2);
    expect(card).not.toContain('<b>');
    expect(card).not.toContain('<users/all>');
    expect(card).toContain(
      '&lt;users/all&gt; &lt;https://evil.example|click&gt; &lt;b&gt;bold&lt;/b&gt;',
    );
    // The one tag Weir writes is its own colour.
    expect(strings(m.cardsV2).filter((s) => /<(?!\/?font)/.test(s))).toEqual([]);
  });

  it('stay within what a channel holds however long the input', () => {
    const long = {
      ...rolledBack,
      message: 'y'.repeat(10_000),
      failures: Array.from({ length: 50 }, (_, i) => `${i} ${'z'.repeat(5_000)}`),
    };
    const rocket = rocketMessage(long, {});
    expect(rocket.attachments[0]!.text.length).toBeLessThanOrEqual(4000);
    const gchat = googleChatMessage(long);
    const paragraphs = gchat.cardsV2[0]!.card.sections[0]!.widgets;
    expect(paragraphs).toHaveLength(12);
    expect(JSON.stringify(paragraphs.at(-1))).toContain('… and 40 more failed checks');
    expect(JSON.stringify(gchat).length).toBeLessThan(32_000);
  });
});
