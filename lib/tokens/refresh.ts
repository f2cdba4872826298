import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * Refresh tokens are `<session handle>.<secret>`: the handle finds the row by primary
 * key, the secret (256 bits, base64url) proves possession. Only SHA-256 of the whole
 * token is stored.
 */
const REFRESH_TOKEN = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

/** A new session handle: random, and not a secret (it appears in access tokens). */
export function newSessionHandle(): string {
  return randomUUID();
}

/** A fresh refresh token for a new session. */
export function newRefreshToken(handle: string): string {
  return `${handle}.${randomBytes(32).toString("base64url")}`;
}

/**
 * The token that replaces `presented` at rotation. It is an HMAC of the presented
 * token under a secret every instance shares, so a second refresh with the same token
 * (another tab, a lost response) gets the same successor instead of forking the session.
 */
export function successorOf(presented: string, handle: string, secret: Buffer): string {
  return `${handle}.${createHmac("sha256", secret).update(presented).digest("base64url")}`;
}

/** The session handle a refresh token names, or `undefined` when it is not one of ours. */
export function handleOf(token: string): string | undefined {
  return REFRESH_TOKEN.exec(token)?.[1];
}

export function hashRefreshToken(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** Constant-time comparison of two stored hashes. */
export function sameHash(a: Buffer | null, b: Buffer): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(a, b);
}
