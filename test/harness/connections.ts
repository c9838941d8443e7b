import dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** The TCP connection attempts this process made while watched. */
export interface ConnectionWatch {
  /** `ip:port` of every attempt (Node's `connectionAttempt` event), in order. */
  readonly attempts: string[];
  stop(): void;
}

/**
 * Records every outbound TCP connection attempt of this process, through Node's
 * `net.client.socket` diagnostics channel and each socket's `connectionAttempt` event (emitted
 * just before `connect(2)`). Nothing is patched: a test can prove that a refused destination
 * was never dialled, rather than inferring it from a timeout.
 */
export function watchConnections(): ConnectionWatch {
  const attempts: string[] = [];
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    socket.on('connectionAttempt', (ip: string, port: number) => attempts.push(`${ip}:${port}`));
  };
  dc.subscribe('net.client.socket', onSocket);
  return { attempts, stop: () => dc.unsubscribe('net.client.socket', onSocket) };
}
