import { SessionError } from "../errors";
import type { ClientInfo } from "../hooks";
import type { IssuedSession, SessionManager } from "../manager";
import { isCoreCredential, readCoreAccessToken, refreshWithCoreToken } from "../migration/supertokens/http";
import { revokeSession } from "../sessions/admin";
import { refreshSession } from "../sessions/refresh";
import { identify, verifyAccessReloading } from "../sessions/verification";
import type { PresentedRefreshToken } from "../tokens/refresh";
import { readAccessToken, readRefreshTokens, type RefreshCredential } from "./credentials";
import { csrfFailure, reportCsrfFailure } from "./csrf";
import { clientOf, reportRefusal, sendSessionError } from "./respond";
import type { Runtime } from "./runtime";
import type { HttpRequest, HttpResponse } from "./seam";

/**
 * A protocol endpoint. It answers every session failure itself; anything else (a bug, a
 * failing hook) rejects, for the adapter to hand to its framework's error handling.
 */
export type Endpoint = (runtime: Runtime, req: HttpRequest, res: HttpResponse) => Promise<void>;

/** The protocol endpoints under `apiBasePath`, keyed by `METHOD path`. */
export function endpoints(apiBasePath: string): Map<string, Endpoint> {
  return new Map<string, Endpoint>([
    [`POST ${apiBasePath}/session/refresh`, refresh],
    [`POST ${apiBasePath}/signout`, signOut],
    [`GET ${apiBasePath}/jwt/jwks.json`, jwks],
  ]);
}

/**
 * Rotates the refresh token: 200 `{}` with new tokens, or 401. New tokens travel the way
 * the presented one came — Set-Cookie for a cookie, headers for a bearer token — so page
 * script asking for `st-auth-mode: header` cannot read HttpOnly tokens. A refusal clears
 * tokens only when the request carried some: a cross-site form posting nothing here
 * (logout CSRF) changes nothing.
 */
const refresh: Endpoint = async (runtime, req, res) => {
  if (await refreshWithCoreToken(runtime, req, res)) return;
  const { manager, transfer } = runtime;
  const credential = readRefreshTokens(req, transfer.names(req));
  const refusal = { mode: credential.mode, kind: "refresh" as const, carried: credential.carriedCookies || credential.mode === "header" };
  if (credential.mode === "cookie" && credential.tokens.length > 0) {
    const failure = csrfFailure(req, manager.options);
    if (failure !== undefined) {
      reportCsrfFailure(manager.diagnostics, req, failure);
      // Refused without clearing anything: the response of a forged request must not
      // sign the victim out either.
      reportRefusal(runtime, req, new SessionError("UNAUTHORISED", `CSRF check failed: ${failure}`), "refresh");
      res.sendJson(401, new SessionError("UNAUTHORISED").toBody());
      return;
    }
  }
  try {
    if (!manager.isReady) await manager.ready();
    const issued = await refreshFirstLive(manager, chooseSessions(manager, credential), clientOf(req));
    transfer.setTokens(req, res, credential.mode, issued, issued.record);
    res.sendJson(200, {});
  } catch (error) {
    if (!sendSessionError(runtime, req, res, error, refusal)) throw error;
  }
};

/**
 * The refresh tokens to use, grouped by session. When the request carries access cookies,
 * only refresh tokens of their sessions count: a `__Secure-` refresh cookie can be planted
 * by a sibling subdomain (Domain=<parent>), the `__Host-` access cookie cannot, so the
 * access cookie anchors the refresh and a planted refresh cookie is never used. Without an
 * anchor, refresh cookies of different sessions are refused rather than tried in turn.
 */
function chooseSessions(manager: SessionManager, credential: RefreshCredential): PresentedRefreshToken[][] {
  const { tokens, accessTokens } = credential;
  if (tokens.length === 0) throw new SessionError("UNAUTHORISED", "no refresh token");
  const anchors: string[] = [];
  for (const token of accessTokens) {
    const sid = identify(manager, token)?.sid;
    if (sid !== undefined && !anchors.includes(sid)) anchors.push(sid);
  }
  if (anchors.length === 0) {
    if (new Set(tokens.map((token) => token.handle)).size > 1) {
      throw new SessionError("UNAUTHORISED", "refresh tokens of several sessions, and no access cookie to choose by");
    }
    return [tokens];
  }
  const groups = anchors.map((sid) => tokens.filter((token) => token.handle === sid)).filter((group) => group.length > 0);
  if (groups.length === 0) throw new SessionError("UNAUTHORISED", "no refresh token of the session the access cookie names");
  return groups;
}

/**
 * Refreshes the first of the anchored sessions that is live: after a `cookieDomain` change
 * a browser holds the old scope's pair beside the new one, and the old session may have
 * ended. Only "unauthorised" moves on; theft or an outage answers at once.
 */
async function refreshFirstLive(manager: SessionManager, sessions: PresentedRefreshToken[][], client: ClientInfo): Promise<IssuedSession> {
  let refused: unknown;
  for (const tokens of sessions) {
    try {
      return await refreshSession(manager, tokens, client);
    } catch (error) {
      if (!(error instanceof SessionError) || error.code !== "UNAUTHORISED") throw error;
      refused = error;
    }
  }
  throw refused;
}

/**
 * Revokes the current session. Needs a valid access token (else 401, and the SDK
 * refreshes and retries). When the store is down the row cannot be revoked: the answer is
 * 503, this device's tokens are cleared all the same, and nothing pretends the session
 * ended (other instances still accept it until it expires or a retry succeeds).
 */
const signOut: Endpoint = async (runtime, req, res) => {
  const { manager, transfer } = runtime;
  const found = readAccessToken(req, transfer.names(req), manager.keys) ?? readCoreAccessToken(runtime, req);
  const mode = found?.mode ?? "cookie";
  try {
    if (!found) throw new SessionError("UNAUTHORISED", "no access token");
    if (found.mode === "cookie") {
      const failure = csrfFailure(req, manager.options);
      if (failure !== undefined) {
        reportCsrfFailure(manager.diagnostics, req, failure);
        throw new SessionError("TRY_REFRESH_TOKEN", `CSRF check failed: ${failure}`);
      }
    }
    if (isCoreCredential(runtime, found.token)) throw new SessionError("TRY_REFRESH_TOKEN", "SuperTokens access token: a refresh moves the session");
    if (!manager.isReady) await manager.ready();
    const claims = await verifyAccessReloading(manager, found.token);
    await revokeSession(manager, claims.sid, "sign-out", clientOf(req));
  } catch (error) {
    if (error instanceof SessionError && error.code === "STORE_UNAVAILABLE") transfer.clearTokens(req, res, mode);
    // An unauthorised sign-out keeps the tokens: the SDK refreshes and retries it.
    if (!sendSessionError(runtime, req, res, error, { mode, kind: "access", carried: false })) throw error;
    return;
  }
  transfer.clearTokens(req, res, mode);
  res.sendJson(200, { status: "OK" });
};

/** The public signing keys, cacheable until the next key is published. */
const jwks: Endpoint = async (runtime, req, res) => {
  try {
    await runtime.manager.ready();
    res.setHeader("Cache-Control", `public, max-age=${runtime.manager.keys.jwksMaxAgeSeconds()}`);
    res.sendJson(200, runtime.manager.keys.jwks());
  } catch (error) {
    if (!sendSessionError(runtime, req, res, error, { mode: "cookie", kind: "access", carried: false })) throw error;
  }
};
