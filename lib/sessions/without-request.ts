import type { SessionClaimValidator } from "../claims/types";
import type { CookieLifetime } from "../cookies";
import { SessionError } from "../errors";
import { NO_CLIENT, type IssuedSession, type SessionManager } from "../manager";
import { validatorList } from "../options/resolve";
import { Session, type SessionSink } from "../session";
import { isCompactJws, type AccessClaims } from "../tokens/access";
import { parseRefreshToken } from "../tokens/refresh";
import { invalidClaim, staleClaims, validateClaims } from "./claims";
import { createSession, type NewSessionInput } from "./create";
import { refreshSession } from "./refresh";
import { assertLive, verifyAccessReloading } from "./verification";

/** What the no-request create and refresh hand over: the session, and its tokens to deliver yourself. */
export interface SessionWithTokens {
  session: Session;
  accessToken: string;
  refreshToken: string;
  /** The SDK's `front-token` value (base64 JSON of user id, expiry and payload). */
  frontToken: string;
}

export interface WithoutRequestOptions {
  /** Also confirm the session row is live (one primary-key read). @default false */
  checkDatabase?: boolean;
  /** When `false`, a missing or invalid token resolves to `undefined` instead of rejecting. @default true */
  sessionRequired?: boolean;
  overrideGlobalClaimValidators?: (globalValidators: readonly SessionClaimValidator[], session: Session) => readonly SessionClaimValidator[];
}

// Without a response, a re-signed token waits on the session for the caller to take
// (`getAllSessionTokensDangerously()`), and a revoke has nothing to clear.
const NO_RESPONSE: SessionSink = {
  accessTokenChanged(_token: string, _claims: AccessClaims, _lifetime: CookieLifetime) {},
  cleared() {},
  client: () => NO_CLIENT,
};

/**
 * `verifySession` for code without Express (websocket upgrades, GraphQL subscriptions,
 * RPC): the same verification, revocation, claim validation and refetch, no CSRF check
 * (there is no browser form to forge). A refetched claim re-signs the token: see
 * `session.getAllSessionTokensDangerously().accessAndFrontTokenUpdated`.
 */
export async function getSessionWithoutRequestResponse(
  manager: SessionManager,
  accessToken: unknown,
  options: WithoutRequestOptions = {},
): Promise<Session | undefined> {
  const required = options.sessionRequired ?? true;
  if (typeof accessToken !== "string" || !isCompactJws(accessToken)) {
    if (!required) return undefined;
    throw new SessionError("UNAUTHORISED", "no access token");
  }
  if (!manager.isReady) await manager.ready();
  let claims: AccessClaims;
  try {
    claims = await verifyAccessReloading(manager, accessToken);
  } catch (error) {
    if (!required && error instanceof SessionError && error.code === "UNAUTHORISED") return undefined;
    throw error;
  }
  if (options.checkDatabase) await assertLive(manager, claims.sid);
  const session = new Session(manager, { claims, accessToken }, NO_RESPONSE);
  const globals = manager.options.globalClaimValidators;
  const validators = options.overrideGlobalClaimValidators
    ? validatorList("overrideGlobalClaimValidators (its result)", options.overrideGlobalClaimValidators(globals, session))
    : globals;
  const stale = staleClaims(manager, validators, session.userId, session.validationPayload());
  if (stale.length > 0) await session.refetch(stale);
  const errors = validateClaims(manager, validators, session.validationPayload());
  if (errors.length > 0) throw invalidClaim(manager, errors);
  return session;
}

/** `res.createSession` without a response: the session and its tokens, for you to deliver. */
export async function createNewSessionWithoutRequestResponse(manager: SessionManager, userId: unknown, input: NewSessionInput = {}): Promise<SessionWithTokens> {
  return withTokens(manager, await createSession(manager, userId, input, NO_CLIENT));
}

/** The refresh endpoint without a request: rotation, grace window and theft detection as over HTTP. */
export async function refreshSessionWithoutRequestResponse(manager: SessionManager, refreshToken: unknown): Promise<SessionWithTokens> {
  const presented = typeof refreshToken === "string" ? parseRefreshToken(refreshToken) : undefined;
  if (!presented) throw new SessionError("UNAUTHORISED", "no refresh token");
  if (!manager.isReady) await manager.ready();
  return withTokens(manager, await refreshSession(manager, [presented], NO_CLIENT));
}

function withTokens(manager: SessionManager, issued: IssuedSession): SessionWithTokens {
  const session = new Session(manager, { claims: issued.claims, accessToken: issued.accessToken, refreshToken: issued.refreshToken }, NO_RESPONSE);
  const { frontToken } = session.getAllSessionTokensDangerously();
  return { session, accessToken: issued.accessToken, refreshToken: issued.refreshToken, frontToken };
}
