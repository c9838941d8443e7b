import { escapeChatHtml } from './markdown.js';
import { cut, failureLines, releaseFacts, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';

const colors = { info: '#2eb886', warn: '#daa038', error: '#d40e0d' } as const;

/**
 * Google Chat incoming webhook: one card (`cardsV2`) with the title in its header, the message
 * and failed checks as paragraphs, the facts as labelled rows. Card text renders a small HTML
 * subset, so every value is HTML-escaped; the plain `text` holds only the title, built from
 * Kubernetes names, so Chat's own markup (`<users/all>`, `*bold*`) has nothing to act on.
 */
export function googleChatMessage(n: Notification) {
  const html = (value: string, max: number) => escapeChatHtml(cut(value, max));
  const row = (label: string, value: string) => ({
    decoratedText: { topLabel: label, text: html(value, 1000), wrapText: true },
  });
  return {
    text: cut(n.title, 1000),
    cardsV2: [
      {
        cardId: `weir-${n.kind}`,
        card: {
          header: {
            title: cut(n.title, 200),
            subtitle: cut(`${n.namespace}/${n.canary} · ${n.phase}`, 200),
          },
          sections: [
            {
              widgets: [
                {
                  textParagraph: {
                    text: `<font color="${colors[n.severity]}">${html(n.message, 2000)}</font>`,
                  },
                },
                ...failureLines(n).map((f) => ({ textParagraph: { text: html(f, 1000) } })),
              ],
            },
            {
              widgets: [
                // The phase is in the header already.
                ...releaseFacts(n)
                  .filter((f) => f.name !== 'Phase')
                  .map((f) => row(f.name, f.value)),
                ...(n.advice ? [row('What now', n.advice)] : []),
              ],
            },
          ],
        },
      },
    ],
  };
}

export const gchatNotifier: Notifier = { type: 'gchat', body: (n) => googleChatMessage(n) };
