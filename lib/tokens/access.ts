import jwt from "jsonwebtoken";
import { SessionError } from "../errors";
import type { KeyRing, LoadedKey } from "../keys";

/** Claims latchkey owns; a user's payload may not set them. */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set(["sub", "sid", "iat", "exp", "iss", "aud", "nbf", "jti"]);

/** The JOSE `typ` of latchkey access tokens (RFC 9068), so no other JWT can pass for one. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/** Cookies top out near 4 KB; larger tokens would be dropped silently by browsers. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;

/** Future `iat` tolerated for clock skew between instances (DESIGN §3: at most 5 s). */
const IAT_LEEWAY_SECONDS = 5;

// Compact JWS only: three base64url segments. Anything else (JWE, JSON serialisation,
// padding, whitespace) is refused before any parsing (RFC 8725bis "check JWT format").
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface AccessClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud?: string;
  [claim: string]: unknown;
}

export interface TokenSettings {
  issuer: string;
  audience: string | undefined;
}

/** Signs an access token; `iat` and `exp` are seconds, as in the JWT. */
export function signAccessToken(
  key: LoadedKey,
  settings: TokenSettings,
  claims: { userId: string; handle: string; payload: Record<string, unknown>; iat: number; exp: number },
): string {
  const body: Record<string, unknown> = {
    ...claims.payload,
    sub: claims.userId,
    sid: claims.handle,
    iat: claims.iat,
    exp: claims.exp,
    iss: settings.issuer,
  };
  if (settings.audience !== undefined) body.aud = settings.audience;
  return jwt.sign(body, key.privateKey, {
    algorithm: key.algorithm,
    header: { alg: key.algorithm, typ: ACCESS_TOKEN_TYPE, kid: key.kid },
  });
}

/**
 * Verifies an access token with no I/O. Throws `TRY_REFRESH_TOKEN` when a refresh can
 * help (expired, or a key this instance does not know) and `UNAUTHORISED` otherwise.
 *
 * jsonwebtoken checks the signature, `exp`, `nbf`, `iss` and `aud`; the rest of RFC 8725's
 * advice (pinned algorithm per key, `typ`, `crit`, required `exp`, future `iat`,
 * object payloads, well-formed claims) is checked here.
 */
export function verifyAccessToken(token: string, keys: KeyRing, settings: TokenSettings, nowMs: number): AccessClaims {
  if (token.length > MAX_ACCESS_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
    throw new SessionError("UNAUTHORISED", "access token is not a compact JWS");
  }
  const header = decodeSegment(token.slice(0, token.indexOf(".")));
  if (!header || header.typ !== ACCESS_TOKEN_TYPE || "crit" in header) {
    throw new SessionError("UNAUTHORISED", "access token header is not latchkey's");
  }
  const key = keys.verificationKey(header.kid);
  if (!key) throw new SessionError("TRY_REFRESH_TOKEN", "access token names an unknown or retired key");
  if (header.alg !== key.algorithm) throw new SessionError("UNAUTHORISED", "access token algorithm does not match its key");

  const now = Math.floor(nowMs / 1000);
  let payload: unknown;
  try {
    payload = jwt.verify(token, key.publicKey, {
      algorithms: [key.algorithm],
      issuer: settings.issuer,
      ...(settings.audience !== undefined ? { audience: settings.audience } : {}),
      clockTimestamp: now,
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new SessionError("TRY_REFRESH_TOKEN", "access token expired");
    throw new SessionError("UNAUTHORISED", "access token failed verification", { cause: error });
  }
  if (!isWellFormed(payload) || payload.iat > now + IAT_LEEWAY_SECONDS) {
    throw new SessionError("UNAUTHORISED", "access token claims are malformed");
  }
  return payload;
}

function isWellFormed(payload: unknown): payload is AccessClaims {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return false;
  const claims = payload as Record<string, unknown>;
  return (
    typeof claims.sub === "string" &&
    claims.sub.length > 0 &&
    typeof claims.sid === "string" &&
    claims.sid.length > 0 &&
    Number.isFinite(claims.exp) &&
    Number.isFinite(claims.iat)
  );
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
