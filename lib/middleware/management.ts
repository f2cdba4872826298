import type { SessionClaim } from "../claims/claim";
import type { SessionClaimValidator } from "../claims/types";
import type { RevokeReason } from "../hooks";
import type { SessionManager } from "../manager";
import type { Session } from "../session";
import type { AccessTokenPayloadUpdate } from "../types/payload";
import * as admin from "../sessions/admin";
import * as claims from "../sessions/claim-admin";
import type { NewSessionInput } from "../sessions/create";
import * as withoutRequest from "../sessions/without-request";

/**
 * The session-management operations, on the middleware and on `sessionManager()`.
 * Unknown or malformed handles answer `false` / `null` / `[]` and never throw; a store
 * fault rejects with `SessionError` `STORE_UNAVAILABLE`.
 */
export interface SessionManagement {
  /** Revokes one session; `false` when it is unknown or already revoked. */
  revokeSession(handle: string): Promise<boolean>;
  /** Revokes every live session of a user ("sign out everywhere"); resolves to the handles revoked. */
  revokeAllSessionsForUser(userId: string): Promise<string[]>;
  /** Revokes the other sessions of the user who owns `currentHandle` (if it is live), in one batched statement. */
  revokeOtherSessions(currentHandle: string): Promise<string[]>;
  /** Handles of a user's live sessions. */
  getAllSessionHandlesForUser(userId: string): Promise<string[]>;
  /** A user's live sessions with device metadata, oldest first; paged with `limit` and `cursor`. */
  listSessions(userId: string, options?: admin.ListSessionsOptions): Promise<admin.SessionList>;
  /** Everything known about one session (payload and session data included), or `null`. */
  getSessionInformation(handle: string): Promise<admin.SessionInformation | null>;
  /** Replaces a live session's server-side data; `false` when the session is not live. */
  updateSessionData(handle: string, data: Record<string, unknown>): Promise<boolean>;
  /** Merges into a live session's stored payload (`null` deletes a key); the client sees it at its next refresh. */
  mergeIntoAccessTokenPayload(handle: string, update: AccessTokenPayloadUpdate): Promise<boolean>;
  /** Fetches a claim's value for a session and stores it; the client sees it at its next refresh. */
  fetchAndSetClaim(handle: string, claim: SessionClaim<unknown>): Promise<boolean>;
  /** Stores a claim value for a session. */
  setClaimValue<T>(handle: string, claim: SessionClaim<T>, value: T): Promise<boolean>;
  /** Runs validators against a session's stored payload, refetching stale claims first. */
  validateClaimsForSessionHandle(handle: string, validators: readonly SessionClaimValidator[]): Promise<claims.ClaimsCheck>;
  /**
   * Marks a user's value of `claim` stale everywhere: every instance refetches it at each of
   * the user's sessions' next request, within the revocation lag, without signing anyone out.
   */
  invalidateClaim(userId: string, claim: SessionClaim<unknown> | string): Promise<void>;
  /** `verifySession` without a request: for websockets, GraphQL subscriptions, RPC. */
  getSessionWithoutRequestResponse(accessToken: string, options?: withoutRequest.WithoutRequestOptions & { sessionRequired?: true }): Promise<Session>;
  getSessionWithoutRequestResponse(accessToken: string, options: withoutRequest.WithoutRequestOptions): Promise<Session | undefined>;
  /** `res.createSession` without a response: resolves to the session and the tokens to deliver. */
  createNewSessionWithoutRequestResponse(userId: string, options?: NewSessionInput): Promise<withoutRequest.SessionWithTokens>;
  /** The refresh endpoint without a request. */
  refreshSessionWithoutRequestResponse(refreshToken: string): Promise<withoutRequest.SessionWithTokens>;
  /** Deletes expired sessions (in batches), retired keys and old claim invalidations. */
  cleanup(options?: { batchSize?: number; maxBatches?: number; onProgress?: (deleted: number) => void }): Promise<admin.CleanupResult>;
  /** Publishes a new signing key now; it signs once every instance has loaded it. */
  rotateKeys(): Promise<{ kid: string; signsFrom: number }>;
  /**
   * Resolves when the store is usable — schema checked, keys loaded, first revocation poll
   * done — and rejects with the cause (`SessionError` `STORE_UNAVAILABLE`, its `cause` the
   * driver's error). For start-up and health checks; calling it again retries.
   */
  ready(): Promise<void>;
  /** Stops background timers and closes the store's own connections (an app on MySQL never exits without it). */
  close(): Promise<void>;
}

export function managementOf(manager: SessionManager): SessionManagement {
  const byAdmin: RevokeReason = "admin";
  return {
    revokeSession: (handle) => admin.revokeSession(manager, handle, byAdmin),
    revokeAllSessionsForUser: (userId) => admin.revokeAllSessionsForUser(manager, userId),
    revokeOtherSessions: (handle) => admin.revokeOtherSessions(manager, handle),
    getAllSessionHandlesForUser: async (userId) => (await admin.listSessions(manager, userId)).map((session) => session.handle),
    listSessions: (userId, options) => admin.listSessions(manager, userId, options),
    getSessionInformation: (handle) => admin.getSessionInformation(manager, handle),
    updateSessionData: (handle, data) => admin.updateSessionData(manager, handle, data),
    mergeIntoAccessTokenPayload: async (handle, update) => (await admin.updateAccessTokenPayload(manager, handle, update)) !== null,
    fetchAndSetClaim: (handle, claim) => claims.fetchAndSetClaim(manager, handle, claim),
    setClaimValue: (handle, claim, value) => claims.setClaimValue(manager, handle, claim, value),
    validateClaimsForSessionHandle: (handle, validators) => claims.validateClaimsForSessionHandle(manager, handle, validators),
    invalidateClaim: (userId, claim) => claims.invalidateClaim(manager, userId, claim),
    getSessionWithoutRequestResponse: ((accessToken: string, options?: withoutRequest.WithoutRequestOptions) =>
      withoutRequest.getSessionWithoutRequestResponse(manager, accessToken, options)) as SessionManagement["getSessionWithoutRequestResponse"],
    createNewSessionWithoutRequestResponse: (userId, options) => withoutRequest.createNewSessionWithoutRequestResponse(manager, userId, options),
    refreshSessionWithoutRequestResponse: (refreshToken) => withoutRequest.refreshSessionWithoutRequestResponse(manager, refreshToken),
    cleanup: (options) => admin.cleanup(manager, options),
    rotateKeys: async () => {
      await manager.ready();
      return manager.guard("rotate the signing keys", () => manager.keys.rotateNow());
    },
    ready: () => manager.ready(),
    close: () => manager.close(),
  };
}
