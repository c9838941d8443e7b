/**
 * The page's one connection: server-sent events from /api/stream. EventSource reconnects
 * by itself after a dropped connection; when the server refuses one (it answers 503 to
 * too many pages) EventSource gives up, and this retries with a growing delay.
 */
import type { StreamMessage } from '../model.js';
import { parseStreamMessage } from './rows.js';

/** How the connection is: the page says it in words. */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'retrying';

export interface StreamOptions {
  url: string;
  onMessage: (m: StreamMessage) => void;
  onState: (state: StreamState, retryInMs?: number) => void;
}

/** Opens the stream; returns the function that closes it. */
export function openStream({ url, onMessage, onState }: StreamOptions): () => void {
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = 1000;
  let closed = false;

  const connect = () => {
    onState('connecting');
    const es = new EventSource(url);
    source = es;
    es.onopen = () => {
      delay = 1000;
      onState('live');
    };
    es.onmessage = (e: MessageEvent<string>) => {
      const m = parseStreamMessage(e.data);
      if (m) onMessage(m);
    };
    es.onerror = () => {
      if (closed) return;
      if (es.readyState !== EventSource.CLOSED) return onState('reconnecting');
      es.close();
      onState('retrying', delay);
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30_000);
    };
  };
  connect();
  return () => {
    closed = true;
    clearTimeout(timer);
    source?.close();
  };
}
