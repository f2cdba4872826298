import type { SessionClaim } from "../claims/claim";
import type { SessionClaimValidator } from "../claims/claim";
import type { SessionManager } from "../manager";
import type { SessionRecord } from "../store/store";
import { checkHandle, checkUserId } from "../validate";
import { isLive, updateAccessTokenPayload } from "./admin";
import { refetchClaims, validateClaims } from "./claims";
import type { ClaimsCheck } from "./types";

/** Fetches the claim's value for a session by handle and stores it; `false` when the session is not live. */
export async function fetchAndSetClaim(manager: SessionManager, handle: unknown, claim: SessionClaim<unknown>): Promise<boolean> {
  const row = await liveRow(manager, handle);
  return row !== null && (await refetchClaims(manager, [claim], row)) !== null;
}

/** Stores `value` as a session's claim value (fetched now); `false` when the session is not live. */
export async function setClaimValue<T>(manager: SessionManager, handle: unknown, claim: SessionClaim<T>, value: T): Promise<boolean> {
  return (await updateAccessTokenPayload(manager, handle, claim.buildUpdate(value, manager.now()))) !== null;
}

/**
 * Runs `validators` against a session's stored payload, fetching (and storing) the claims
 * they find missing or stale first, as `verifySession` would for its access token.
 */
export async function validateClaimsForSessionHandle(manager: SessionManager, handle: unknown, validators: readonly SessionClaimValidator[]): Promise<ClaimsCheck> {
  let row = await liveRow(manager, handle);
  if (!row) return { status: "SESSION_DOES_NOT_EXIST_ERROR" };
  const now = manager.now();
  const stale = new Map<string, SessionClaim<unknown>>();
  for (const validator of validators) if (validator.claim && validator.shouldRefetch(asToken(row), now)) stale.set(validator.claim.key, validator.claim);
  if (stale.size > 0) row = await refetchClaims(manager, [...stale.values()], row);
  if (!row) return { status: "SESSION_DOES_NOT_EXIST_ERROR" };
  return { status: "OK", invalidClaims: validateClaims(manager, validators, asToken(row)) };
}

/**
 * Marks a user's value of `claim` stale on every instance, without signing anyone out:
 * this instance at once, the others within the revocation lag (the same poll). The next
 * request of each of the user's sessions fetches it again and re-signs its access token;
 * tokens signed from now on lack it until then.
 */
export async function invalidateClaim(manager: SessionManager, userId: unknown, claim: SessionClaim<unknown> | string): Promise<void> {
  const user = checkUserId(userId);
  const key = typeof claim === "string" ? claim : claim?.key;
  if (typeof key !== "string" || key.length === 0 || key.length > 64) {
    throw new TypeError("latchkey: invalidateClaim needs a claim (or its key) as its second argument.");
  }
  const at = manager.now();
  await manager.guard("invalidate a claim", () => manager.store.invalidateClaim(user, key, at));
  manager.invalidations.add(user, key, at);
}

// What a validator would read in this session's next access token: the stored payload
// and latchkey's own claims (authTime in seconds, for requireFresh).
function asToken(row: SessionRecord): Readonly<Record<string, unknown>> {
  return { ...row.accessTokenPayload, sub: row.userId, sid: row.handle, authTime: Math.floor(row.authTime / 1000) };
}

async function liveRow(manager: SessionManager, handle: unknown) {
  const valid = checkHandle(handle);
  if (!valid) return null;
  const row = await manager.guard("read a session", () => manager.store.findSession(valid));
  return row && row.revokedAt === null && isLive(row, manager.now()) ? row : null;
}
