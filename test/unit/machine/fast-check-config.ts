import fc from 'fast-check';

/**
 * `fc.assert` for Weir's property tests. On failure fast-check's message names the
 * seed and path and prints the shrunk counterexample; to replay it, run the test
 * with `FC_SEED=<seed> FC_PATH=<path>`. `FC_RUNS_FACTOR` multiplies every test's
 * number of runs (e.g. 20 for a long search before a release).
 */
export function assertProperty<Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts>,
  params: fc.Parameters<Ts> & { numRuns: number },
): void {
  const seed = process.env.FC_SEED;
  const factor = Number(process.env.FC_RUNS_FACTOR ?? 1);
  fc.assert(property, {
    ...params,
    numRuns: Math.max(1, Math.round(params.numRuns * factor)),
    ...(seed !== undefined ? { seed: Number(seed), path: process.env.FC_PATH } : {}),
  });
}

/**
 * The body of an `it.fails` for a known defect: asserts the property and lets
 * through only the failure that names the defect (`reason`, matched against the
 * error and its cause). Any other failure is reported and swallowed, so that the
 * `it.fails` itself fails: a broken test does not pass for the known defect.
 */
export function assertKnownDefect<Ts extends [unknown, ...unknown[]]>(
  reason: RegExp,
  property: fc.IProperty<Ts>,
  params: fc.Parameters<Ts> & { numRuns: number },
): void {
  try {
    assertProperty(property, params);
  } catch (err) {
    const text = `${String(err)}\n${String((err as Error).cause ?? '')}`;
    if (reason.test(text)) throw err;
    console.error(`Expected the known defect (${reason.source}), got another failure:`, err);
  }
}
