/** What main.ts gives a page, and what it asks of one. */
import type { CanaryRow, StreamMessage } from '../model.js';

/** A page on screen: it applies stream messages until it is replaced. */
export interface Page {
  /**
   * Draws a message the rows already hold: `changed` names the rows it changed (`all`
   * for a snapshot); a detail changes none.
   */
  apply(changed: Set<string> | 'all', message: StreamMessage): void;
  /** Lets go of timers and listeners outside the page's own elements. */
  dispose(): void;
}

/** The page's surroundings, shared by both pages. */
export interface PageContext {
  /** Where the page draws (`<main>`). */
  main: HTMLElement;
  /** Every Canary's row, by `namespace/name`, as the stream keeps them. */
  rows: ReadonlyMap<string, CanaryRow>;
  /** Whether the first snapshot has arrived (until then an empty list means nothing). */
  loaded(): boolean;
  now(): number;
  /** The list's query last seen (filters and sort), so a link back to it keeps them. */
  listSearch(): string;
  rememberListSearch(search: string): void;
}
