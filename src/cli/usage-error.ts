/** A command line that cannot be run: the message says why, and the usage follows (exit code 2). */
export class UsageError extends Error {}
