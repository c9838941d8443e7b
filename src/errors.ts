/**
 * The error catalogue. Every error Weir raises on purpose carries a stable code
 * and says whether retrying can help, so callers decide without parsing messages.
 */
export type ErrorCode =
  'InvalidConfig' | 'ApiUnavailable' | 'RoutingBlocked' | 'NotLeader' | 'EgressDenied';

/** An error a user can act on: the message says what is wrong and where. */
export class WeirError extends Error {
  readonly code: ErrorCode;
  /** True when the same operation may succeed later without any change. */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'WeirError';
    this.code = code;
    this.retriable = options.retriable;
  }
}

/** Bad flags or environment: terminal, the process should exit with the message. */
export function invalidConfig(message: string): WeirError {
  return new WeirError('InvalidConfig', message, { retriable: false });
}

/**
 * A router cannot route this Canary as declared without harming someone else's
 * objects (for example a VirtualService it does not own, or a missing Ingress).
 * The reconciler reports it in the Canary's Ready condition with `reason`; it
 * clears once the user changes what is wrong.
 */
export class RoutingBlocked extends WeirError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super('RoutingBlocked', message, { retriable: false });
    this.name = 'RoutingBlocked';
  }
}

/**
 * This replica is not (or no longer) the leader: it must not write. Thrown by the
 * access layer before any write once leadership is lost, so a reconcile still in
 * flight stops instead of racing the new leader.
 */
export function notLeader(): WeirError {
  return new WeirError('NotLeader', 'This replica is not the leader: write refused', {
    retriable: false,
  });
}

/**
 * An outbound request (webhook, notification, metric query) to an address the egress
 * policy denies: refused before any connection is made (see `src/util/egress.ts`). Terminal:
 * the same address is refused again until the Canary, the Secret or the flags change.
 */
export class EgressDenied extends WeirError {
  constructor(
    /** The IP address that was refused. */
    readonly address: string,
    message: string,
  ) {
    super('EgressDenied', message, { retriable: false });
    this.name = 'EgressDenied';
  }
}
