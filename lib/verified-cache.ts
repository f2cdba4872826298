import type { AccessClaims } from "./tokens/access";

/**
 * Access tokens already verified, so a client sending the same token on every request
 * pays one signature check per token rather than per request. Looked up by the signature
 * segment (hashing 86 characters rather than the whole ~300 on every request), and a hit
 * only when the whole token is the same string: any other byte sequence, a tampered
 * payload under a real signature included, misses and is verified in full.
 * An entry is used only until the token's `exp`; revocation is checked on every hit by
 * the caller. Bounded: past `maxEntries` the oldest entry goes.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(token: string, nowMs: number): AccessClaims | undefined {
    const key = keyOf(token);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.claims.exp * 1000 > nowMs) return entry.claims;
    this.#entries.delete(key);
    return undefined;
  }

  set(token: string, claims: AccessClaims): void {
    if (this.#maxEntries === 0) return;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(keyOf(token), { token, claims: deepFreeze(claims) });
  }

  get size(): number {
    return this.#entries.size;
  }
}

interface Entry {
  readonly token: string;
  readonly claims: AccessClaims;
}

// The signature segment (what follows the last dot); a verified token always has one.
function keyOf(token: string): string {
  return token.slice(token.lastIndexOf(".") + 1);
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
