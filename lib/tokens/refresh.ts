import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * Refresh tokens are `<session handle>.<lineage>.<secret>`. The handle finds the row by
 * primary key. The lineage (128 random bits) is the same in every token of one session,
 * and the row keeps only its SHA-256: presenting a token of this session that is no longer
 * current proves the presenter held one, however many rotations ago — theft — in one
 * comparison, where walking the HMAC chain forward would cost a step per rotation (about
 * 5 µs each, under the row lock, for anyone who knows a handle to trigger). The secret
 * (256 bits) proves possession of this very token. Only SHA-256 of the whole token is stored.
 *
 * Sessions created before 0.2 carry `<handle>.<secret>`; their first rotation gives them a
 * lineage derived from the presented token, so the successor stays deterministic.
 */
const REFRESH_TOKEN = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const LEGACY_REFRESH_TOKEN = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

/** A refresh token that has latchkey's shape (nothing about it is verified yet). */
export interface PresentedRefreshToken {
  token: string;
  handle: string;
  /** `undefined` for a token from before 0.2. */
  lineage: string | undefined;
}

/** A new session handle: random, and not a secret (it appears in access tokens). */
export function newSessionHandle(): string {
  return randomUUID();
}

/** A fresh refresh token, and its lineage, for a new session. */
export function newRefreshToken(handle: string): { token: string; lineage: string } {
  // One call to the CSPRNG for both parts: 16 bytes of lineage, then 32 of secret.
  const random = randomBytes(48);
  const lineage = random.toString("base64url", 0, 16);
  return { token: `${handle}.${lineage}.${random.toString("base64url", 16)}`, lineage };
}

/** The token's parts, or `undefined` when it is not one of ours (a bearer "undefined", garbage). */
export function parseRefreshToken(token: string): PresentedRefreshToken | undefined {
  const current = REFRESH_TOKEN.exec(token);
  if (current) return { token, handle: current[1] as string, lineage: current[2] as string };
  const legacy = LEGACY_REFRESH_TOKEN.exec(token);
  return legacy ? { token, handle: legacy[1] as string, lineage: undefined } : undefined;
}

/**
 * The token that replaces `presented` at rotation: an HMAC of the presented token under
 * a secret every instance shares, so a second refresh with the same token (another tab,
 * a lost response, a retry after an unknown outcome) gets the same successor on any
 * instance instead of forking the session.
 */
export function successorOf(presented: PresentedRefreshToken, secret: Buffer): { token: string; lineage: string } {
  const lineage = lineageOf(presented, secret);
  const next = createHmac("sha256", secret).update(presented.token).digest("base64url");
  return { token: `${presented.handle}.${lineage}.${next}`, lineage };
}

/**
 * The lineage `presented` belongs to. A token from before 0.2 carries none: its session's
 * lineage is the one its first rotation derived from it, so the same derivation recognises
 * it later, however many rotations old, as the ancestor it is.
 */
export function lineageOf(presented: PresentedRefreshToken, secret: Buffer): string {
  return presented.lineage ?? createHmac("sha256", secret).update(`lineage:${presented.token}`).digest().subarray(0, 16).toString("base64url");
}

export function hashRefreshToken(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export function hashLineage(lineage: string): Buffer {
  return createHash("sha256").update(lineage).digest();
}

/** Constant-time comparison of two stored hashes. */
export function sameHash(a: Buffer | null, b: Buffer): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(a, b);
}
