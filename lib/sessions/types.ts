import type { ClaimValidationError } from "../claims/types";
import type { Duration } from "../duration";
import type { SessionMetadata } from "../store/store";
import type { AccessTokenPayload } from "../types/payload";

// The shapes the session operations take and hand back, kept apart from the operations
// themselves: the published declarations then show these and nothing of the machinery.

/** What a login may say about the session it creates. */
export interface NewSessionInput {
  /** Custom claims for the access token; at most 2 KB as JSON. */
  accessTokenPayload?: AccessTokenPayload & Record<string, unknown>;
  /** Server-side data kept with the session; at most 64 KB as JSON. */
  sessionData?: Record<string, unknown>;
  /** `false`: cookies that end with the browser session, and a shorter idle lifetime. */
  rememberMe?: boolean;
  /** This session's own lifetimes, instead of `refreshTokenTtl` / `absoluteTtl`. */
  sessionTtl?: { idle?: Duration; absolute?: Duration };
}

/** A session as the management API shows it: never a token or a hash. */
export interface SessionInformation {
  handle: string;
  userId: string;
  accessTokenPayload: Record<string, unknown>;
  sessionData: Record<string, unknown>;
  createdAt: number;
  lastRefreshedAt: number;
  /** When the user last proved who they are: the login, or a re-authentication. */
  authTime: number;
  expiresAt: number;
  absoluteExpiresAt: number;
  /** This session's idle lifetime in ms (its own `sessionTtl.idle`, else `refreshTokenTtl`). */
  idleTtl: number;
  /** False for a `rememberMe: false` login: its cookies end with the browser session. */
  persistent: boolean;
  revokedAt: number | null;
  /** Where it was created. */
  ip: string | null;
  userAgent: string | null;
  /** Where it was last refreshed from (`null` before its first refresh). */
  lastIp: string | null;
  lastUserAgent: string | null;
}

/** A session as `listSessions` shows it: device metadata, no payload or session data. */
export interface ListedSession extends SessionMetadata {
  /** Whether this is the session of the request that asked. */
  current: boolean;
}

/** A page of `listSessions`: an array, plus where the next page starts (`null` after the last). */
export type SessionList = ListedSession[] & { nextCursor: string | null };

export interface ListSessionsOptions {
  /** The asking session's handle (`req.session.handle`), to have it marked `current`. */
  currentHandle?: string;
  /** At most this many (1 to 1000). @default all of them */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface CleanupResult {
  /** Expired sessions deleted. */
  sessions: number;
  /** Retired signing keys deleted. */
  keys: number;
}

/** What {@link validateClaimsForSessionHandle} finds (SuperTokens' shape). */
export type ClaimsCheck = { status: "OK"; invalidClaims: ClaimValidationError[] } | { status: "SESSION_DOES_NOT_EXIST_ERROR" };
