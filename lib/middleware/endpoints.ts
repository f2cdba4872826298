import type { NextFunction, Request, Response } from "express";
import { csrfFailure } from "../csrf";
import { SessionError } from "../errors";
import type { IssuedSession } from "../manager";
import type { Runtime } from "../runtime";
import { sendSessionError } from "./respond";

type Endpoint = (runtime: Runtime, req: Request, res: Response, next: NextFunction) => Promise<void>;

/** The protocol endpoints under `apiBasePath`, keyed by `METHOD path`. */
export function endpoints(apiBasePath: string): Map<string, Endpoint> {
  return new Map<string, Endpoint>([
    [`POST ${apiBasePath}/session/refresh`, refresh],
    [`POST ${apiBasePath}/signout`, signOut],
    [`GET ${apiBasePath}/jwt/jwks.json`, jwks],
  ]);
}

/**
 * Rotates the refresh token: 200 `{}` with new tokens, or 401 and cleared tokens. When
 * a browser sends two refresh cookies (a `cookieDomain` change), each is tried in turn.
 */
const refresh: Endpoint = async (runtime, req, res, next) => {
  const { manager, transfer } = runtime;
  const { tokens, mode } = transfer.readRefreshTokens(req);
  const respondIn = transfer.responseMode(req, mode);
  if (mode === "cookie" && tokens.length > 0 && csrfFailure(req, manager.options)) {
    // Refused without clearing anything: the response of a forged request must not
    // sign the victim out either.
    res.status(401).json(new SessionError("UNAUTHORISED").toBody());
    return;
  }
  try {
    let issued: IssuedSession | undefined;
    let lastError: unknown = new SessionError("UNAUTHORISED", "no refresh token");
    for (const token of tokens.length > 0 ? tokens : [undefined]) {
      try {
        issued = await manager.refresh(token);
        break;
      } catch (error) {
        lastError = error;
        if (!(error instanceof SessionError) || error.code !== "UNAUTHORISED") break;
      }
    }
    if (!issued) throw lastError;
    transfer.setTokens(req, res, respondIn, { ...issued, sessionExpiresAt: issued.record.expiresAt });
    res.status(200).json({});
  } catch (error) {
    sendSessionError(runtime, req, res, next, error, respondIn);
  }
};

/**
 * Revokes the current session. Needs a valid access token (else 401, and the SDK
 * refreshes and retries). When the store is down the row cannot be revoked, but this
 * device's tokens are cleared all the same and the answer says so with a 503.
 */
const signOut: Endpoint = async (runtime, req, res, next) => {
  const { manager, transfer } = runtime;
  const found = transfer.readAccessToken(req);
  const mode = transfer.responseMode(req, found?.mode);
  try {
    if (!found) throw new SessionError("UNAUTHORISED", "no access token");
    if (found.mode === "cookie" && csrfFailure(req, manager.options)) throw new SessionError("TRY_REFRESH_TOKEN", "CSRF check failed");
    if (!manager.keys.ready) await manager.ready();
    const claims = manager.verify(found.token);
    await manager.revokeSession(claims.sid, "sign-out");
  } catch (error) {
    if (error instanceof SessionError && error.code === "STORE_UNAVAILABLE") transfer.clearTokens(req, res, mode);
    // An unauthorised sign-out keeps the tokens: the SDK refreshes and retries it.
    if (error instanceof SessionError && error.status === 401) {
      res.status(401).json(error.toBody());
      return;
    }
    return sendSessionError(runtime, req, res, next, error, mode);
  }
  transfer.clearTokens(req, res, mode);
  res.status(200).json({ status: "OK" });
};

/** The public signing keys, cacheable until the next key is published. */
const jwks: Endpoint = async (runtime, req, res, next) => {
  try {
    await runtime.manager.ready();
    res.setHeader("Cache-Control", `public, max-age=${runtime.manager.keys.jwksMaxAgeSeconds()}`);
    res.status(200).json(runtime.manager.keys.jwks());
  } catch (error) {
    sendSessionError(runtime, req, res, next, error, "cookie");
  }
};
