import "./types/express";

export { sessionMiddleware, sessionManager } from "./middleware/session";
export type { CreateSessionOptions, SessionManagement, SessionMiddleware } from "./middleware/session";
export { verifySession, getSession } from "./middleware/verify";
export type { VerifySessionOptions } from "./middleware/verify";
export { errorHandler } from "./middleware/error-handler";
export { Session } from "./session";
export { SessionError, SESSION_ERRORS } from "./errors";
export type { SessionErrorCode } from "./errors";
export { mysqlStore, MySqlStore } from "./store/mysql";
export type { MySqlConnection, MySqlStoreOptions } from "./store/mysql";
export { memoryStore } from "./store/select";
export { MemoryStore } from "./store/memory";
export { schemaSql, SCHEMA_VERSION } from "./store/schema";
export type {
  Decision,
  ExpiredSession,
  RevokedHandle,
  SessionRecord,
  SessionStore,
  SessionUpdate,
  SigningKeyRecord,
} from "./store/store";
export type { SessionMiddlewareOptions } from "./options";
export type { CleanupResult, ListedSession, SessionInformation } from "./manager";
export type { SessionEvent, RevokedEvent, RevokeReason, SessionHooks } from "./hooks";
export type { Logger } from "./logger";
export type { Duration } from "./duration";
export type { AccessTokenPayload } from "./types/payload";
