import { describe, expect, it } from 'vitest';
import { waitFor } from '../../harness/wait.js';

describe('waitFor', () => {
  it('returns the first defined value', async () => {
    let calls = 0;
    const value = await waitFor(async () => (++calls >= 3 ? 'done' : undefined), {
      timeoutMs: 5_000,
      intervalMs: 1,
      what: 'three calls',
    });
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('times out with what it waited for and the last error', async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 20, intervalMs: 5, what: 'the API server' },
      ),
    ).rejects.toThrow(/Timed out after 20 ms waiting for the API server: connection refused/);
  });
});
