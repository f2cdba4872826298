import { checkHealth, WatchedBackgroundWork } from "./health";
import { fireHook, type RevokeReason } from "./hooks";
import { sessionFromHeaders } from "./http/headers-session";
import type { HeadersSessionOptions } from "./http/options";
import { createRuntime } from "./http/runtime";
import { instrumentStore } from "./instrumented-store";
import { resolveLogger } from "./logger";
import { SessionManager } from "./manager";
import { checkMigrationStore } from "./migration/supertokens/state";
import type { SessionMiddlewareOptions } from "./options/contract";
import { resolveOptions } from "./options/resolve";
import * as admin from "./sessions/admin";
import * as claims from "./sessions/claim-admin";
import * as withoutRequest from "./sessions/without-request";
import { selectStore } from "./store/select";
import type { SessionManagement, WithoutRequestOptions } from "./types/management";

/**
 * The one place a manager, its store and its background work are built: `sessionManager()`,
 * the CLI and every framework adapter get theirs here. Options are read and checked once.
 *
 * @internal
 */
export function createManager(options: SessionMiddlewareOptions | undefined): SessionManager {
  const resolved = resolveOptions(options);
  // Every store call is timed, and every failed one reaches onStoreError, whichever path made it.
  const store = instrumentStore(selectStore(resolved.store, resolveLogger(resolved.logger)), (error, operation) => {
    const hook = resolved.onStoreError;
    if (hook) fireHook(manager.log, "onStoreError", (failure: [unknown, string]) => hook(...failure), [error, operation]);
  });
  checkMigrationStore(resolved, store);
  const manager = new SessionManager(resolved, store);
  manager.background = new WatchedBackgroundWork(manager);
  return manager;
}

/**
 * The management API without a web framework, for scripts, jobs and servers of their own
 * (websockets, RPC): the same operations as the middleware carries, on the same store,
 * configured the same way (`LATCHKEY_DATABASE_URL`, `LATCHKEY_TABLE_PREFIX`).
 *
 * @example
 * ```ts
 * const sessions = sessionManager();
 * await sessions.revokeAllSessionsForUser("user-42");
 * await sessions.close();
 * ```
 */
export function sessionManager(options?: SessionMiddlewareOptions): SessionManagement {
  return managementOf(createManager(options));
}

/** The management API over a manager: what `sessionManager()` returns and every adapter carries. @internal */
export function managementOf(manager: SessionManager): SessionManagement {
  const byAdmin: RevokeReason = "admin";
  const runtime = createRuntime(manager);
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
    getSessionWithoutRequestResponse: ((accessToken: string, options?: WithoutRequestOptions) =>
      withoutRequest.getSessionWithoutRequestResponse(manager, accessToken, options)) as SessionManagement["getSessionWithoutRequestResponse"],
    getSessionFromHeaders: ((headers: Parameters<SessionManagement["getSessionFromHeaders"]>[0], options?: HeadersSessionOptions) =>
      sessionFromHeaders(runtime, headers, options)) as SessionManagement["getSessionFromHeaders"],
    createNewSessionWithoutRequestResponse: (userId, options) => withoutRequest.createNewSessionWithoutRequestResponse(manager, userId, options),
    refreshSessionWithoutRequestResponse: (refreshToken, device) => withoutRequest.refreshSessionWithoutRequestResponse(manager, refreshToken, device),
    cleanup: (options) => admin.cleanup(manager, options),
    rotateKeys: async () => {
      await manager.ready();
      return manager.guard("rotate the signing keys", () => manager.keys.rotateNow());
    },
    ready: () => manager.ready(),
    health: () => checkHealth(manager),
    close: () => manager.close(),
  };
}
