/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** Total time allowed, in milliseconds. */
  timeoutMs: number;
  /** Pause between attempts, in milliseconds. */
  intervalMs?: number;
  /** What is being waited for, for the error message. */
  what: string;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, or throws with
 * the last probe error once `timeoutMs` has passed. Every wait in the harness is
 * bounded by this.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 200, what }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
