import { createServer } from 'node:net';

/**
 * Asks the kernel for a free loopback port. The port is released before it is
 * used, so there is a small window for a clash; callers that start servers on it
 * fail loudly rather than silently sharing a port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the address of a probe socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
