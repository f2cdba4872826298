/** How long an absent value is trusted for a claim that sets no max age of its own. */
export const ABSENCE_MAX_AGE_MS = 60_000;
/** Sessions whose absent claims one instance remembers: a flood of sessions cannot grow it. */
const MAX_ENTRIES = 10_000;

/**
 * Claims whose `fetchValue` returned `undefined` for a session, and when that fetch started.
 * An absent value stores nothing in the payload (SuperTokens' rule), so without this every
 * request to a route validating the claim would fetch it again, take the row lock and re-sign
 * the token; instead the absence is believed for the claim's max age, as a value would be.
 * Per instance and bounded: forgetting an entry costs one fetch, never a wrong answer.
 */
export class ClaimAbsences {
  readonly #fetchedAt = new Map<string, number>();

  record(handle: string, key: string, fetchStartedAt: number): void {
    const id = `${handle} ${key}`;
    this.#fetchedAt.delete(id);
    this.#fetchedAt.set(id, fetchStartedAt);
    if (this.#fetchedAt.size > MAX_ENTRIES) this.#fetchedAt.delete(this.#fetchedAt.keys().next().value as string);
  }

  /** A value was fetched since: the absence no longer holds. */
  forget(handle: string, key: string): void {
    this.#fetchedAt.delete(`${handle} ${key}`);
  }

  /** When the fetch that found the claim absent started, if that is at most `maxAgeMs` before `now`. */
  absentSince(handle: string, key: string, now: number, maxAgeMs: number): number | undefined {
    const id = `${handle} ${key}`;
    const at = this.#fetchedAt.get(id);
    if (at === undefined) return undefined;
    if (now - at <= maxAgeMs) return at;
    this.#fetchedAt.delete(id);
    return undefined;
  }
}
