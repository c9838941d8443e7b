import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message as Slack would show it, flattened to text. */
export interface ReceivedMessage {
  payload: unknown;
  text: string;
  delivery?: string;
}

type Block = {
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { text?: string }[];
};

/** Renders the Block Kit of a Slack webhook payload as terminal text. */
export function renderSlack(payload: {
  text?: string;
  attachments?: { blocks?: Block[] }[];
}): string {
  const lines: string[] = [];
  const clean = (t: string) =>
    t
      .replace(/\*([^*\n]+)\*/g, '$1')
      .replace(/`([^`\n]+)`/g, '$1')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  for (const block of payload.attachments?.[0]?.blocks ?? []) {
    if (block.type === 'header' && block.text) lines.push(clean(block.text.text));
    else if (block.type === 'section' && block.text)
      lines.push(...clean(block.text.text).split('\n'));
    else if (block.type === 'section' && block.fields)
      lines.push(block.fields.map((f) => clean(f.text).replace('\n', ': ')).join(' · '));
    else if (block.type === 'context')
      lines.push(...(block.elements ?? []).map((e) => clean(e.text ?? '')));
  }
  return lines.length > 0 ? lines.join('\n') : (payload.text ?? '');
}

/** A Slack-compatible incoming-webhook receiver on loopback that hands each message on. */
export async function startSlackReceiver(
  onMessage: (m: ReceivedMessage) => void,
): Promise<{ url: string; received: ReceivedMessage[]; stop(): Promise<void> }> {
  const received: ReceivedMessage[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      try {
        const payload = JSON.parse(raw) as Parameters<typeof renderSlack>[0];
        const delivery = req.headers['x-weir-delivery'];
        const m: ReceivedMessage = {
          payload,
          text: renderSlack(payload),
          ...(typeof delivery === 'string' ? { delivery } : {}),
        };
        received.push(m);
        onMessage(m);
        res.writeHead(200).end('ok');
      } catch {
        res.writeHead(400).end('invalid_payload');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0DEMO/B0DEMO/local`,
    received,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
