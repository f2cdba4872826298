/**
 * Handles of revoked sessions whose access tokens may still be unexpired, so that
 * verification can refuse them without I/O. An entry is kept for `retentionMs` after its
 * revocation: the access-token lifetime plus the clock skew tolerated between instances,
 * by when every token of that session has expired.
 *
 * Bounded: past `maxEntries` the entry inserted first goes (O(1): a Map iterates in
 * insertion order, which is about revocation order). Its tokens fall back to expiry;
 * `onDropped` hears of every entry dropped while still needed.
 */
export class RevocationList {
  readonly #forgetAt = new Map<string, number>();
  readonly #retentionMs: number;
  readonly #clock: () => number;
  readonly #maxEntries: number;
  readonly #onDropped: () => void;

  constructor(options: { retentionMs: number; clock: () => number; maxEntries: number; onDropped: () => void }) {
    this.#retentionMs = options.retentionMs;
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries;
    this.#onDropped = options.onDropped;
  }

  get size(): number {
    return this.#forgetAt.size;
  }

  add(handle: string, revokedAt: number): void {
    const forgetAt = revokedAt + this.#retentionMs;
    const now = this.#clock();
    if (forgetAt <= now) return;
    const known = this.#forgetAt.get(handle);
    if (known !== undefined && known >= forgetAt) return;
    this.#forgetAt.set(handle, forgetAt);
    if (this.#forgetAt.size <= this.#maxEntries) return;
    const [oldest, oldestForgetAt] = this.#forgetAt.entries().next().value as [string, number];
    this.#forgetAt.delete(oldest);
    if (oldestForgetAt > now) this.#onDropped();
  }

  has(handle: string): boolean {
    const forgetAt = this.#forgetAt.get(handle);
    if (forgetAt === undefined) return false;
    if (forgetAt > this.#clock()) return true;
    this.#forgetAt.delete(handle);
    return false;
  }
}

/**
 * Claims invalidated per user (`invalidateClaim`), so that every instance treats tokens
 * signed before the change as carrying a stale value of that claim. Kept as long as a
 * revocation: tokens signed after it are signed from payloads that no longer hold the claim.
 */
export class ClaimInvalidations {
  readonly #byUser = new Map<string, Map<string, number>>();
  readonly #retentionMs: number;
  readonly #clock: () => number;

  constructor(options: { retentionMs: number; clock: () => number }) {
    this.#retentionMs = options.retentionMs;
    this.#clock = options.clock;
  }

  /** Whether this instance holds any invalidation: the verify path skips all of this when not. */
  get empty(): boolean {
    return this.#byUser.size === 0;
  }

  add(userId: string, key: string, invalidatedAt: number): void {
    if (invalidatedAt + this.#retentionMs <= this.#clock()) return;
    let keys = this.#byUser.get(userId);
    if (!keys) this.#byUser.set(userId, (keys = new Map()));
    if ((keys.get(key) ?? -Infinity) < invalidatedAt) keys.set(key, invalidatedAt);
  }

  /** When `key` was last invalidated for `userId`, while that still matters. */
  invalidatedAt(userId: string, key: string): number | undefined {
    const at = this.#byUser.get(userId)?.get(key);
    if (at === undefined || at + this.#retentionMs > this.#clock()) return at;
    this.#byUser.get(userId)?.delete(key);
    if (this.#byUser.get(userId)?.size === 0) this.#byUser.delete(userId);
    return undefined;
  }

  /** Drops what no longer matters (run with the poll, so memory stays bounded by recent changes). */
  prune(): void {
    const cutoff = this.#clock() - this.#retentionMs;
    for (const [userId, keys] of this.#byUser) {
      for (const [key, at] of keys) if (at <= cutoff) keys.delete(key);
      if (keys.size === 0) this.#byUser.delete(userId);
    }
  }
}
