import { SessionError } from "../errors";
import { NO_CLIENT, type ClientInfo } from "../hooks";
import type { IssuedSession, SessionManager } from "../manager";
import { validatorList } from "../options/resolve";
import { Session, type CookieLifetime, type SessionSink } from "../session";
import { isCompactJws, type AccessClaims } from "../tokens/access";
import { parseRefreshToken } from "../tokens/refresh";
import { createSession } from "./create";
import { openSession } from "./open";
import { refreshSession } from "./refresh";
import type { DeviceInfo, SessionWithTokens, WithoutRequestOptions } from "../types/management";
import type { NewSessionInput } from "./types";

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
  const override = options.overrideGlobalClaimValidators;
  const globals = manager.options.globalClaimValidators;
  return openSession(manager, accessToken, {
    checkDatabase: options.checkDatabase ?? false,
    optional: !required,
    validators: (session) => (override ? validatorList("overrideGlobalClaimValidators (its result)", override(globals, session)) : globals),
    sink: NO_RESPONSE,
  });
}

/** `res.createSession` without a response: the session and its tokens, for you to deliver. */
export async function createNewSessionWithoutRequestResponse(
  manager: SessionManager,
  userId: unknown,
  input: NewSessionInput & DeviceInfo = {},
): Promise<SessionWithTokens> {
  const { ip, userAgent, ...session } = input;
  return withTokens(manager, await createSession(manager, userId, session, clientOf({ ip, userAgent })));
}

/** The refresh endpoint without a request: rotation, grace window and theft detection as over HTTP. */
export async function refreshSessionWithoutRequestResponse(manager: SessionManager, refreshToken: unknown, device: DeviceInfo = {}): Promise<SessionWithTokens> {
  const client = clientOf(device);
  const presented = typeof refreshToken === "string" ? parseRefreshToken(refreshToken) : undefined;
  if (!presented) throw new SessionError("UNAUTHORISED", "no refresh token");
  if (!manager.isReady) await manager.ready();
  return withTokens(manager, await refreshSession(manager, [presented], client));
}

// The device a caller says the request came from, kept as the HTTP core keeps a request's
// (the same lengths), for the device list and the audit events.
function clientOf(device: DeviceInfo): ClientInfo {
  for (const name of ["ip", "userAgent"] as const) {
    const value = device[name];
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw new TypeError(`latchkey: option ${name} must be a string (got ${typeof value}).`);
    }
  }
  if (device.ip == null && device.userAgent == null) return NO_CLIENT;
  return { ip: device.ip?.slice(0, 64) ?? null, userAgent: device.userAgent?.slice(0, 512) ?? null };
}

function withTokens(manager: SessionManager, issued: IssuedSession): SessionWithTokens {
  const session = Session.open(manager, { claims: issued.claims, accessToken: issued.accessToken, refreshToken: issued.refreshToken }, NO_RESPONSE);
  const { frontToken } = session.getAllSessionTokensDangerously();
  return {
    session,
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    frontToken,
    accessTokenExpiresAt: issued.claims.exp * 1000,
    refreshTokenExpiresAt: issued.record.expiresAt,
    persistent: issued.record.persistent,
  };
}
