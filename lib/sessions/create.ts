import { parseDuration } from "../duration";
import { storeUnavailable } from "../errors";
import type { ClientInfo } from "../hooks";
import type { IssuedSession, SessionManager } from "../manager";
import { OUTCOME_UNKNOWN, type RevokedSession, type SessionRecord, type SessionUpdate } from "../store/store";
import { hashLineage, hashRefreshToken, newRefreshToken, newSessionHandle, sameHash } from "../tokens/refresh";
import { checkPayload, checkSessionData, checkUserId, mergePayload } from "../validate";
import { isLive } from "./admin";
import { withRegisteredClaims } from "./claims";
import type { NewSessionInput } from "./types";

/** The idle lifetime of a `rememberMe: false` session without a `sessionTtl.idle` of its own. */
export const BROWSER_SESSION_IDLE_MS = 12 * 3_600_000;

/**
 * Creates a session row, then signs its tokens. Rejects, having issued nothing, if the
 * row cannot be written. With `maxSessionsPerUser`, the insert revokes the user's least
 * recently refreshed sessions beyond the limit in the same transaction.
 */
export async function createSession(manager: SessionManager, userId: unknown, input: NewSessionInput, client: ClientInfo): Promise<IssuedSession> {
  const user = checkUserId(userId);
  const lifetimes = checkLifetimes(manager, input);
  let accessTokenPayload = checkPayload(input.accessTokenPayload);
  const sessionData = checkSessionData(input.sessionData);
  await manager.freshKeys();

  const handle = newSessionHandle();
  const refresh = newRefreshToken(handle);
  accessTokenPayload = await withRegisteredClaims(manager, user, handle, accessTokenPayload);
  const now = manager.now();
  const absoluteExpiresAt = now + lifetimes.absolute;
  const record: SessionRecord = {
    handle,
    userId: user,
    refreshTokenHash: hashRefreshToken(refresh.token),
    prevRefreshTokenHash: null,
    lineageHash: hashLineage(refresh.lineage),
    rotatedAt: null,
    undelivered: false,
    accessTokenPayload,
    sessionData,
    createdAt: now,
    lastRefreshedAt: now,
    authTime: now,
    expiresAt: Math.min(now + (lifetimes.idle ?? manager.options.refreshTokenTtlMs), absoluteExpiresAt),
    absoluteExpiresAt,
    idleTtl: lifetimes.idle,
    persistent: input.rememberMe !== false,
    revokedAt: null,
    ip: client.ip?.slice(0, 64) ?? null,
    userAgent: client.userAgent?.slice(0, 512) ?? null,
    lastIp: null,
    lastUserAgent: null,
  };
  // Signed before the insert: a token that cannot be issued (too large for a cookie)
  // fails the call without leaving a row behind.
  const signed = manager.sign(record);
  const evicted = await insert(manager, record);
  manager.revoked(evicted, now, "evicted", client);
  manager.emit("onSessionCreated", manager.event(record, client));
  return { record, refreshToken: refresh.token, ...signed };
}

/**
 * Renews a live session's `authTime` in place (a step-up re-authentication), applying the
 * login's payload and session data; resolves to its new tokens, or `null` when the session
 * is not live or belongs to another user (then the login creates a new one).
 *
 * The refresh token is replaced by one of a new lineage: a copy taken before the step-up
 * must not earn access tokens carrying the fresh `authTime`. The replaced token is kept as
 * the previous one, and its successor is not the new token, so presenting it later is
 * theft at once, with no grace window: it cannot be a second tab's honest race, because
 * the rotation it would race is not one it could have caused. Older tokens of the old
 * lineage, stale already, are refused without ending the session.
 */
export async function reauthenticate(manager: SessionManager, handle: string, userId: string, input: NewSessionInput): Promise<IssuedSession | null> {
  const payload = input.accessTokenPayload === undefined ? undefined : checkPayload(input.accessTokenPayload);
  const sessionData = input.sessionData === undefined ? undefined : checkSessionData(input.sessionData);
  await manager.freshKeys();
  const refresh = newRefreshToken(handle);
  const record = await manager.guard("renew a session", () =>
    manager.store.updateSession(handle, (row, databaseNow) => {
      const now = manager.now();
      if (row.userId !== userId || row.revokedAt !== null || !isLive(row, now)) return { result: null };
      const update: SessionUpdate = {
        authTime: now,
        refreshTokenHash: hashRefreshToken(refresh.token),
        prevRefreshTokenHash: row.refreshTokenHash,
        lineageHash: hashLineage(refresh.lineage),
        rotatedAt: manager.sharedNow(databaseNow),
        undelivered: false,
        ...(payload ? { accessTokenPayload: mergePayload(row.accessTokenPayload, payload) } : {}),
        ...(sessionData ? { sessionData } : {}),
      };
      return { update, result: { ...row, ...update } };
    }),
  );
  return record ? { record, refreshToken: refresh.token, ...manager.sign(record) } : null;
}

async function insert(manager: SessionManager, record: SessionRecord): Promise<RevokedSession[]> {
  const max = manager.options.maxSessionsPerUser;
  try {
    await manager.storeReady();
    return await manager.store.createSession(record, max === undefined ? {} : { maxSessionsPerUser: max, at: record.createdAt });
  } catch (error) {
    // An INSERT whose answer was lost: the row tells whether it landed (evictions that
    // landed with it reach other instances through the revocation poll).
    if ((error as { code?: unknown }).code === OUTCOME_UNKNOWN) {
      const row = await manager.store.findSession(record.handle).catch(() => null);
      if (row && sameHash(row.refreshTokenHash, record.refreshTokenHash)) return [];
    }
    manager.diagnostics.fault("create", "could not store a new session", error);
    throw storeUnavailable(error);
  }
}

function checkLifetimes(manager: SessionManager, input: NewSessionInput): { idle: number | null; absolute: number } {
  if (input.rememberMe !== undefined && typeof input.rememberMe !== "boolean") {
    throw new TypeError(`latchkey: createSession option rememberMe must be true or false (got ${typeof input.rememberMe}).`);
  }
  const { options } = manager;
  const ttl = input.sessionTtl;
  if (ttl !== undefined && (typeof ttl !== "object" || ttl === null || Object.keys(ttl).some((key) => key !== "idle" && key !== "absolute"))) {
    throw new TypeError('latchkey: createSession option sessionTtl must be an object { idle?, absolute? } of durations such as "30m".');
  }
  const idle = ttl?.idle === undefined ? undefined : bounded(manager, "sessionTtl.idle", lifetime("sessionTtl.idle", ttl.idle));
  const absolute = ttl?.absolute === undefined ? options.absoluteTtlMs : bounded(manager, "sessionTtl.absolute", lifetime("sessionTtl.absolute", ttl.absolute));
  representable(manager, ttl?.absolute === undefined ? "option absoluteTtl" : "createSession option sessionTtl.absolute", absolute);
  const effectiveIdle = idle ?? (input.rememberMe === false ? Math.min(options.refreshTokenTtlMs, BROWSER_SESSION_IDLE_MS) : options.refreshTokenTtlMs);
  if (effectiveIdle <= options.accessTokenTtlMs) {
    throw new TypeError(`latchkey: createSession sessionTtl.idle (${effectiveIdle / 1000}s) must be longer than accessTokenTtl (${options.accessTokenTtlMs / 1000}s).`);
  }
  if (effectiveIdle > absolute) {
    throw new TypeError(`latchkey: createSession sessionTtl.idle (${effectiveIdle / 1000}s) must not exceed the absolute lifetime (${absolute / 1000}s).`);
  }
  // Stored only when it differs from the default, so that a later change of refreshTokenTtl reaches the rest.
  return { idle: effectiveIdle === options.refreshTokenTtlMs && idle === undefined ? null : effectiveIdle, absolute };
}

/** The last millisecond a cookie's `Expires` (a four-digit year) can name; both stores hold it exactly. */
const LAST_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

// A login may shorten the deployment's lifetimes, never lengthen them: absoluteTtl is the
// operator's promise of how long any session can live. Checked before anything is written,
// the same way for every store (a fraction of a millisecond would be rounded by MySQL alone).
function bounded(manager: SessionManager, name: string, ms: number): number {
  if (!Number.isInteger(ms)) {
    throw new TypeError(`latchkey: createSession option ${name} must be a whole number of milliseconds (got ${ms / 1000}s).`);
  }
  const limit = manager.options.absoluteTtlMs;
  if (ms > limit) {
    throw new TypeError(`latchkey: createSession option ${name} (${ms / 1000}s) must not exceed the middleware's absoluteTtl (${limit / 1000}s).`);
  }
  return ms;
}

function representable(manager: SessionManager, name: string, absoluteMs: number): void {
  const limit = LAST_EXPIRY_MS - manager.now();
  if (absoluteMs > limit) {
    throw new TypeError(
      `latchkey: ${name} (${absoluteMs / 1000}s) would end a session after 9999-12-31, the last date a cookie's Expires can carry: ` +
        `at most ${Math.floor(limit / 1000)}s from now.`,
    );
  }
}

function lifetime(name: string, value: unknown): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new TypeError(`latchkey: createSession option ${name} must be seconds as a positive number or a string such as "30m" or "7d" (got ${JSON.stringify(value) ?? typeof value}).`);
  }
  return ms;
}
