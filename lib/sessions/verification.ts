import { SessionError, storeUnavailable } from "../errors";
import type { SessionManager } from "../manager";
import { CLOCK_SKEW, UNKNOWN_KEY, verifyAccessToken, type AccessClaims } from "../tokens/access";
import { isLive } from "./admin";

/**
 * Verifies an access token with no I/O (the keys must be loaded: see `ready()`): the
 * verified-token cache, then the signature and claims, then this instance's revocation
 * list. A token from a clock running ahead is logged (at most every 30 s).
 */
export function verifyAccess(manager: SessionManager, token: string): AccessClaims {
  const now = manager.now();
  let claims = manager.verified.get(token, now);
  if (claims === undefined) {
    try {
      claims = verifyAccessToken(token, manager.keys, manager.tokenSettings, now);
    } catch (error) {
      if (error instanceof SessionError && error.reason?.startsWith(CLOCK_SKEW)) {
        manager.diagnostics.warnThrottled("clock-skew", `${error.reason}: check the clocks of the instances (NTP)`);
      }
      throw error;
    }
    manager.verified.set(token, claims);
  }
  if (manager.revocations.has(claims.sid)) throw new SessionError("UNAUTHORISED", "session revoked");
  return claims;
}

/** True when a verification failure may be cured by re-reading the keys (another instance published a new one). */
export function needsKeyReload(error: unknown): boolean {
  return error instanceof SessionError && error.reason === UNKNOWN_KEY;
}

/**
 * As {@link verifyAccess}, but a token signed by a key this instance does not know earns
 * one rate-limited key reload before it is refused.
 */
export async function verifyAccessReloading(manager: SessionManager, token: string): Promise<AccessClaims> {
  try {
    return verifyAccess(manager, token);
  } catch (error) {
    if (!needsKeyReload(error)) throw error;
    let reloaded: boolean;
    try {
      reloaded = await manager.keys.reloadForUnknownKid(kidOf(token));
    } catch (reloadError) {
      manager.diagnostics.fault("keys", "could not reload signing keys", reloadError);
      throw error;
    }
    if (!reloaded) throw error;
    return verifyAccess(manager, token);
  }
}

function kidOf(token: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8")) as { kid?: unknown }).kid;
  } catch {
    return undefined;
  }
}

/**
 * The session a token proves the request belongs to — signature and issuer checked,
 * expiry and revocation ignored — or `undefined`. For anchoring a refresh to the
 * request's `__Host-` access cookie and ending the session a login replaces; never
 * for granting access.
 */
export function identify(manager: SessionManager, token: string): AccessClaims | undefined {
  try {
    return verifyAccessToken(token, manager.keys, manager.tokenSettings, manager.now(), { ignoreExpiration: true });
  } catch {
    return undefined;
  }
}

/** One primary-key read: is this session still live? (`checkDatabase: true`) */
export async function assertLive(manager: SessionManager, handle: string): Promise<void> {
  let row;
  try {
    row = await manager.store.findSession(handle);
  } catch (error) {
    manager.diagnostics.fault("read", "could not read a session", error);
    throw storeUnavailable(error);
  }
  if (!row || row.revokedAt !== null || !isLive(row, manager.now())) {
    if (row?.revokedAt != null) manager.revocations.add(handle, row.revokedAt);
    throw new SessionError("UNAUTHORISED", "session revoked or expired");
  }
}
