import type { SessionClaim } from "../claims/claim";
import type { SessionClaimValidator } from "../claims/claim";
import type { Session } from "../session";
import type {
  ClaimsCheck,
  CleanupResult,
  ListSessionsOptions,
  NewSessionInput,
  SessionInformation,
  SessionList,
} from "../sessions/types";
import type { HeadersSessionOptions } from "../http/options";
import type { AccessTokenPayloadUpdate } from "./payload";

/** What the no-request create and refresh hand over: the session, and its tokens to deliver yourself. */
export interface SessionWithTokens {
  session: Session;
  accessToken: string;
  refreshToken: string;
  /** The SDK's `front-token` value (base64 JSON of user id, expiry and payload). */
  frontToken: string;
  /** When the access token expires (ms since the epoch); its cookie should outlive it (latchkey's lives as long as the refresh cookie). */
  accessTokenExpiresAt: number;
  /** When the session's idle lifetime ends unless refreshed: the Expires of both cookies when `persistent`. */
  refreshTokenExpiresAt: number;
  /** `false` for a `rememberMe: false` login: its cookies get no Expires and end with the browser session. */
  persistent: boolean;
}

/**
 * Where a request without a request object came from (a websocket, an RPC call), for the
 * device list (`listSessions`) and the audit events, as latchkey records an HTTP request's.
 */
export interface DeviceInfo {
  ip?: string;
  userAgent?: string;
}

export interface WithoutRequestOptions {
  /** Also confirm the session row is live (one primary-key read). @default false */
  checkDatabase?: boolean;
  /** When `false`, a missing or invalid token resolves to `undefined` instead of rejecting. @default true */
  sessionRequired?: boolean;
  overrideGlobalClaimValidators?: (globalValidators: readonly SessionClaimValidator[], session: Session) => readonly SessionClaimValidator[];
}

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
  listSessions(userId: string, options?: ListSessionsOptions): Promise<SessionList>;
  /** Everything known about one session (payload and session data included), or `null`. */
  getSessionInformation(handle: string): Promise<SessionInformation | null>;
  /** Replaces a live session's server-side data; `false` when the session is not live. */
  updateSessionData(handle: string, data: Record<string, unknown>): Promise<boolean>;
  /** Merges into a live session's stored payload (`null` deletes a key); the client sees it at its next refresh. */
  mergeIntoAccessTokenPayload(handle: string, update: AccessTokenPayloadUpdate): Promise<boolean>;
  /** Fetches a claim's value for a session and stores it; the client sees it at its next refresh. */
  fetchAndSetClaim(handle: string, claim: SessionClaim<unknown>): Promise<boolean>;
  /** Stores a claim value for a session. */
  setClaimValue<T>(handle: string, claim: SessionClaim<T>, value: T): Promise<boolean>;
  /** Runs validators against a session's stored payload, refetching stale claims first. */
  validateClaimsForSessionHandle(handle: string, validators: readonly SessionClaimValidator[]): Promise<ClaimsCheck>;
  /**
   * Marks a user's value of `claim` stale everywhere: every instance refetches it at each of
   * the user's sessions' next request, within the revocation lag, without signing anyone out.
   */
  invalidateClaim(userId: string, claim: SessionClaim<unknown> | string): Promise<void>;
  /** `verifySession` without a request: for websockets, GraphQL subscriptions, RPC. */
  getSessionWithoutRequestResponse(accessToken: string, options?: WithoutRequestOptions & { sessionRequired?: true }): Promise<Session>;
  getSessionWithoutRequestResponse(accessToken: string, options: WithoutRequestOptions): Promise<Session | undefined>;
  /**
   * The session of a request known only by its headers — a WebSocket upgrade, server-sent
   * events, a GraphQL subscription: the access token is read exactly as `verifySession`
   * reads it (cookie names, duplicates, a bearer only when it is latchkey's), and a
   * cross-site `Origin` is refused with `CROSS_ORIGIN_REQUEST` (cross-site WebSocket
   * hijacking). Rejects with a `SessionError`; resolves `undefined` only for an anonymous
   * request with `sessionRequired: false`.
   *
   * @example
   * ```ts
   * server.on("upgrade", async (req, socket, head) => {
   *   const session = await sessions.getSessionFromHeaders(req.headers).catch(() => undefined);
   *   if (!session) return void socket.destroy();
   *   wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, session));
   * });
   * ```
   */
  getSessionFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, options?: HeadersSessionOptions & { sessionRequired?: true }): Promise<Session>;
  getSessionFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, options: HeadersSessionOptions): Promise<Session | undefined>;
  /** `res.createSession` without a response: resolves to the session and the tokens to deliver. */
  createNewSessionWithoutRequestResponse(userId: string, options?: NewSessionInput & DeviceInfo): Promise<SessionWithTokens>;
  /** The refresh endpoint without a request; `device` says where the refresh came from. */
  refreshSessionWithoutRequestResponse(refreshToken: string, device?: DeviceInfo): Promise<SessionWithTokens>;
  /** Deletes expired sessions (in batches), retired keys and old claim invalidations. */
  cleanup(options?: { batchSize?: number; maxBatches?: number; onProgress?: (deleted: number) => void }): Promise<CleanupResult>;
  /** Publishes a new signing key now; it signs once every instance has loaded it. */
  rotateKeys(): Promise<{ kid: string; signsFrom: number }>;
  /**
   * Resolves when the store is usable — schema checked, keys loaded, first revocation poll
   * done — and rejects with the cause (`SessionError` `STORE_UNAVAILABLE`, its `cause` the
   * driver's error). For start-up and health checks; calling it again retries.
   */
  ready(): Promise<void>;
  /**
   * Resolves while the store answers and rejects while it does not, for a health check that
   * a load balancer polls: unlike {@link ready}, which settles once at start-up, it follows
   * the store. It reads what this instance's revocation poll (every 2 s) last saw, so it costs
   * no query: it rejects with `SessionError` `STORE_UNAVAILABLE` (`cause`: the driver's error)
   * once a poll has failed, or when none has succeeded for 5 s (a database that accepts
   * connections and never answers), and resolves again after the next poll that succeeds.
   * Before the first successful start-up it does what `ready()` does.
   *
   * @example
   * ```ts
   * app.get("/healthz", async (_req, res) => {
   *   try {
   *     await sessions.health();
   *     res.send("ok");
   *   } catch {
   *     res.status(503).send("session store unavailable");
   *   }
   * });
   * ```
   */
  health(): Promise<void>;
  /** Stops background timers and closes the store's own connections (an app on MySQL never exits without it). */
  close(): Promise<void>;
}
