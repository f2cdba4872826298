import "./types/express";

export { sessionMiddleware, sessionManager } from "./middleware/session";
export type { CreateSessionOptions, SessionMiddleware } from "./middleware/session";
export type { SessionManagement } from "./middleware/management";
export { verifySession, getSession } from "./middleware/verify";
export { withSession } from "./middleware/with-session";
export type { VerifySessionOptions } from "./middleware/verify";
export { errorHandler, sendSessionError } from "./middleware/error-handler";
export { Session } from "./session";
export type { SessionTokens } from "./session";
export { SessionError, SESSION_ERRORS } from "./errors";
export type { ClaimValidationError, SessionErrorCode } from "./errors";
export { BooleanClaim } from "./claims/boolean";
export { PrimitiveArrayClaim } from "./claims/primitive-array";
export { PrimitiveClaim } from "./claims/primitive";
export { SessionClaim } from "./claims/claim";
export { requireFresh, FRESH_VALIDATOR_ID } from "./claims/fresh";
export type { BooleanClaimValidators } from "./claims/boolean";
export type { PrimitiveArrayClaimValidators } from "./claims/primitive-array";
export type { PrimitiveClaimValidators } from "./claims/primitive";
export type {
  ClaimFetchContext,
  ClaimFetcher,
  ClaimValidationResult,
  SessionClaimOptions,
  SessionClaimValidator,
} from "./claims/types";
export { mysqlStore, MySqlStore } from "./store/mysql";
export type { MySqlConnection, MySqlStoreOptions } from "./store/mysql";
export type { SslMode, SslOptions, SslSetting } from "./store/tls";
export { memoryStore } from "./store/select";
export { MemoryStore } from "./store/memory";
export { schemaSql, SCHEMA_VERSION } from "./store/schema";
export { OUTCOME_UNKNOWN } from "./store/store";
export type {
  ClaimInvalidation,
  CreateOptions,
  Decision,
  ExpiredSession,
  ListPosition,
  RevocationPosition,
  RevokedHandle,
  RevokedSession,
  SessionMetadata,
  SessionRecord,
  SessionStore,
  SessionUpdate,
  SigningKeyRecord,
} from "./store/store";
export type { SessionMiddlewareOptions, TrustedOrigin, TrustedOrigins } from "./options/contract";
export type { CleanupResult, ListedSession, ListSessionsOptions, SessionInformation, SessionList } from "./sessions/admin";
export type { ClaimsCheck } from "./sessions/claim-admin";
export type { SessionWithTokens, WithoutRequestOptions } from "./sessions/without-request";
export type { SessionEvent, RefusedEvent, RevokedEvent, RevokeReason, SessionHooks } from "./hooks";
export type { Logger } from "./logger";
export type { Duration } from "./duration";
export type { AccessTokenPayload, AccessTokenPayloadUpdate } from "./types/payload";
export type { SessionProperty, TypeConfig } from "./types/config";
export type { SessionRequest, SessionSlot } from "./types/express";
