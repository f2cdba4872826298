/**
 * Handles of revoked sessions whose access tokens may still be unexpired, so that
 * verification can refuse them without I/O. An entry is needed only for one
 * access-token lifetime after the revocation: every token of that session expires by then.
 */
export class RevocationList {
  readonly #forgetAt = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #maxEntries: number;

  constructor(accessTokenTtlMs: number, clock: () => number, maxEntries = 200_000) {
    this.#ttlMs = accessTokenTtlMs;
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#forgetAt.size;
  }

  add(handle: string, revokedAt: number): void {
    const forgetAt = revokedAt + this.#ttlMs;
    if (forgetAt <= this.#clock() || this.#forgetAt.has(handle)) return;
    this.#forgetAt.set(handle, forgetAt);
    // Bounded memory: past the cap the oldest entries go first. Their tokens are the
    // closest to expiry, and expiry still ends them.
    if (this.#forgetAt.size > this.#maxEntries) this.#prune();
  }

  has(handle: string): boolean {
    const forgetAt = this.#forgetAt.get(handle);
    if (forgetAt === undefined) return false;
    if (forgetAt > this.#clock()) return true;
    this.#forgetAt.delete(handle);
    return false;
  }

  #prune(): void {
    const now = this.#clock();
    for (const [handle, forgetAt] of this.#forgetAt) {
      if (forgetAt <= now || this.#forgetAt.size > this.#maxEntries) this.#forgetAt.delete(handle);
    }
  }
}
