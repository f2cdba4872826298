import "./frameworks/express/types";

export { sessionMiddleware } from "./frameworks/express/middleware";
export type { SessionMiddleware } from "./frameworks/express/middleware";
export { verifySession, getSession } from "./frameworks/express/verify";
export { withSession } from "./frameworks/express/with-session";
export { errorHandler, sendSessionError } from "./frameworks/express/error-handler";
export type { SessionRequest, SessionSlot } from "./frameworks/express/types";
export { sessionManager } from "./management";
export type { DeviceInfo, SessionManagement, SessionWithTokens, WithoutRequestOptions } from "./types/management";
export type { CreateSessionOptions, HeadersSessionOptions, VerifySessionOptions } from "./http/options";
export { isCrossOriginRequest } from "./http/cross-origin";
export type { CrossOriginCandidate, CrossOriginOptions } from "./http/cross-origin";
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
} from "./claims/types";
export type { SessionClaimValidator } from "./claims/claim";
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
export type { MigrateFromSuperTokensOptions } from "./migration/supertokens/options";
export type {
  ClaimsCheck,
  CleanupResult,
  ListedSession,
  ListSessionsOptions,
  SessionInformation,
  SessionList,
} from "./sessions/types";
export type { SessionEvent, RefusedEvent, RevokedEvent, RevokeReason, SessionHooks, TheftEvent } from "./hooks";
export type { Logger, LogFields, LogRecord, RecordLogger } from "./logger";
export type { Duration } from "./duration";
export type { AccessTokenPayload, AccessTokenPayloadUpdate } from "./types/payload";
export type { SessionProperty, TypeConfig } from "./types/config";
