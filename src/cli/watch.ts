/** Where and how `weir get --watch` draws. */
export interface WatchOptions {
  out: NodeJS.WritableStream;
  /** A terminal redraws in place; anything else gets each changed frame as plain lines. */
  tty: boolean;
  intervalMs?: number;
  /** Stops the loop (tests); Ctrl-C otherwise. */
  signal?: AbortSignal;
}

/**
 * Redraws a frame whenever it changes. On a terminal the cursor goes home and
 * each line overwrites the last one (clearing only what is left over), so the
 * screen never flashes blank; elsewhere each new frame is printed once, after a
 * timestamp line, so logs stay readable.
 */
export async function watchFrames(
  frame: () => Promise<string[]>,
  options: WatchOptions,
): Promise<void> {
  const { out, tty, intervalMs = 1_000 } = options;
  let last = '';
  let stop = false;
  const onSigint = () => (stop = true);
  process.once('SIGINT', onSigint);
  options.signal?.addEventListener('abort', () => (stop = true));
  if (tty) out.write('\x1b[?25l'); // hide the cursor while drawing
  try {
    while (!stop) {
      let lines: string[];
      try {
        lines = await frame();
      } catch (err) {
        lines = [`weir: ${(err as Error).message}`, '(retrying)'];
      }
      const text = lines.join('\n');
      if (text !== last) {
        if (tty) out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
        else
          out.write(`${last ? '\n' : ''}--- ${new Date().toISOString().slice(11, 19)}\n${text}\n`);
        last = text;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    if (tty) out.write('\x1b[?25h');
    process.removeListener('SIGINT', onSigint);
  }
}
