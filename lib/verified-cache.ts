import type { AccessClaims } from "./tokens/access";

/**
 * Access tokens already verified, keyed by the whole token string, so a client sending
 * the same token on every request pays one signature check per token rather than per
 * request. Keyed by the full token (never a part of it): any other byte sequence, a
 * tampered payload under a real signature included, misses and is verified in full.
 * An entry is used only until the token's `exp`; revocation is checked on every hit by
 * the caller. Bounded: past `maxEntries` the oldest entry goes.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, AccessClaims>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(token: string, nowMs: number): AccessClaims | undefined {
    const claims = this.#entries.get(token);
    if (claims === undefined) return undefined;
    if (claims.exp * 1000 > nowMs) return claims;
    this.#entries.delete(token);
    return undefined;
  }

  set(token: string, claims: AccessClaims): void {
    if (this.#maxEntries === 0) return;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(token, deepFreeze(claims));
  }

  get size(): number {
    return this.#entries.size;
  }
}

// Cached claims are shared by every request that presents the token: frozen, so that
// no route can change what the next request sees.
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
