import type { NextFunction, Request, Response } from "express";
import { SessionError } from "../errors";
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

/** Rotates the refresh token: 200 `{}` with new tokens, or 401 and cleared tokens. */
const refresh: Endpoint = async (runtime, req, res, next) => {
  try {
    const issued = await runtime.manager.refresh(runtime.transfer.readRefreshToken(req));
    runtime.transfer.setTokens(req, res, { ...issued, sessionExpiresAt: issued.record.expiresAt });
    res.status(200).json({});
  } catch (error) {
    sendSessionError(runtime, req, res, next, error);
  }
};

/**
 * Revokes the current session. Needs a valid access token (else 401, and the SDK
 * refreshes and retries). When the store is down the row cannot be revoked, but this
 * device's tokens are cleared all the same and the answer says so with a 503.
 */
const signOut: Endpoint = async (runtime, req, res, next) => {
  const { manager, transfer } = runtime;
  try {
    const token = transfer.readAccessToken(req);
    if (!token) throw new SessionError("UNAUTHORISED", "no access token");
    if (!manager.keys.ready) await manager.ready();
    const claims = manager.verify(token);
    await manager.revokeSession(claims.sid, "sign-out");
  } catch (error) {
    if (error instanceof SessionError && error.code === "STORE_UNAVAILABLE") transfer.clearTokens(req, res);
    // An unauthorised sign-out keeps the cookies: the SDK refreshes and retries it.
    if (error instanceof SessionError && error.status === 401) {
      res.status(401).json(error.toBody());
      return;
    }
    return sendSessionError(runtime, req, res, next, error);
  }
  transfer.clearTokens(req, res);
  res.status(200).json({ status: "OK" });
};

/** The public signing keys, cacheable until the next key is published. */
const jwks: Endpoint = async (runtime, req, res, next) => {
  try {
    await runtime.manager.ready();
    res.setHeader("Cache-Control", `public, max-age=${runtime.manager.keys.jwksMaxAgeSeconds()}`);
    res.status(200).json(runtime.manager.keys.jwks());
  } catch (error) {
    sendSessionError(runtime, req, res, next, error);
  }
};
