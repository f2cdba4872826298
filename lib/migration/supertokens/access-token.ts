import { verify as verifySignature, type KeyObject } from "node:crypto";
import { SessionError } from "../../errors";

/**
 * The core's access tokens, v1 to v5 (reference B.2). All are RS256. v1/v2 have a fixed
 * header and standard Base64 (padded) segments, signature included, and no `kid`: every
 * key is tried. v3-v5 are compact JWS with `kid` `d-<ms>` (dynamic) or `s-<uuid>` (static).
 * Latchkey verifies them (option `acceptCoreAccessTokens`) and never signs one.
 */
const LEGACY_HEADERS: ReadonlyMap<string, number> = new Map([
  [Buffer.from('{"alg":"RS256","typ":"JWT","version":"1"}').toString("base64"), 1],
  [Buffer.from('{"alg":"RS256","typ":"JWT","version":"2"}').toString("base64"), 2],
]);
// The core's tokens carry the user's payload; past this they are not one (cookies stop near 4 KB).
const MAX_LENGTH = 8192;

const V1_REQUIRED = ["userId", "expiryTime", "timeCreated", "sessionHandle", "refreshTokenHash1"];
const V3_REQUIRED = ["sub", "exp", "iat", "sessionHandle", "refreshTokenHash1", "parentRefreshTokenHash1", "antiCsrfToken"];
const REQUIRED: Readonly<Record<number, readonly string[]>> = {
  3: V3_REQUIRED,
  4: [...V3_REQUIRED, "tId"],
  5: [...V3_REQUIRED, "tId", "rsub"],
};

/** The reason of a core token whose `kid` is not among the keys read so far. */
export const UNKNOWN_CORE_KEY = "core access token names an unknown key";

/** The core's public keys: by `kid` for v3+, all of them for v1/v2. Never a private key. */
export interface CoreKeys {
  byKid: ReadonlyMap<string, KeyObject>;
  all: readonly KeyObject[];
}

/** A verified core access token, in latchkey's terms. */
export interface CoreAccess {
  userId: string;
  handle: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** The user's own claims (v3+: every claim the version does not require; v1/v2: `userData`). */
  payload: Record<string, unknown>;
  antiCsrfToken: string | null;
  tenantId: string;
}

/**
 * Whether a token is shaped like a core access token (reference B.7): one of the two fixed
 * legacy headers, or a JWS header with `typ: "JWT"` and a `kid` starting `d-`/`s-` or a
 * `version`. A latchkey token (`typ: "at+jwt"`) never is.
 */
export function isCoreAccessToken(token: string): boolean {
  if (token.length > MAX_LENGTH) return false;
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  if (LEGACY_HEADERS.has(parts[0] as string)) return true;
  const header = decode(parts[0] as string, "base64url");
  if (!header || header.typ !== "JWT") return false;
  return (typeof header.kid === "string" && /^[ds]-/.test(header.kid)) || typeof header.version === "string";
}

/**
 * Verifies a core access token as `AccessToken.getInfoFromAccessToken` does. Every failure is
 * "try refresh token" (the refresh migrates the session): a bad shape, a missing claim, an
 * unknown key, a bad signature, expiry (`exp*1000 < now`, no leeway, as in the core).
 */
export function verifyCoreAccessToken(token: string, keys: CoreKeys, nowMs: number, options: { ignoreExpiry?: boolean } = {}): CoreAccess {
  // ignoreExpiry: for learning whom a refresh belongs to (the access token the app saw), never for access.
  const expired = (expiryMs: number) => !options.ignoreExpiry && !(expiryMs >= nowMs);
  if (!isCoreAccessToken(token)) throw refuse("not a core access token");
  const [head, body, signature] = token.split(".") as [string, string, string];
  const signed = Buffer.from(`${head}.${body}`, "ascii");
  const legacy = LEGACY_HEADERS.get(head);
  if (legacy !== undefined) {
    const sig = Buffer.from(signature, "base64");
    if (!keys.all.some((key) => verifySignature("sha256", signed, key, sig))) throw refuse("core access token failed verification");
    const claims = decode(body, "base64");
    if (!claims || !V1_REQUIRED.every((name) => claims[name] !== undefined && claims[name] !== null)) throw refuse("core access token lacks a claim");
    const expiryMs = Number(claims.expiryTime);
    if (expired(expiryMs)) throw refuse("core access token expired");
    const userData = claims.userData;
    return {
      userId: String(claims.userId),
      handle: String(claims.sessionHandle),
      iat: Math.floor(Number(claims.timeCreated) / 1000),
      exp: Math.floor(expiryMs / 1000),
      payload: typeof userData === "object" && userData !== null && !Array.isArray(userData) ? { ...(userData as Record<string, unknown>) } : {},
      antiCsrfToken: typeof claims.antiCsrfToken === "string" ? claims.antiCsrfToken : null,
      tenantId: "public",
    };
  }
  // The core throws a NullPointerException (HTTP 500) on a header without kid; latchkey refuses it.
  const header = decode(head, "base64url");
  if (!header || header.alg !== "RS256" || header.typ !== "JWT" || typeof header.kid !== "string") throw refuse("core access token header is malformed");
  const version = header.version === undefined ? 5 : Number(header.version);
  const required = REQUIRED[Math.min(version, 5)];
  if (!required || version < 3) throw refuse("core access token has an unknown version");
  const key = keys.byKid.get(header.kid);
  if (!key) throw refuse(UNKNOWN_CORE_KEY);
  if (!verifySignature("sha256", signed, key, Buffer.from(signature, "base64url"))) throw refuse("core access token failed verification");
  const claims = decode(body, "base64url");
  // Present even when null: the core requires the key, not a value.
  if (!claims || !required.every((name) => name in claims)) throw refuse("core access token lacks a claim");
  if (typeof claims.sub !== "string" || typeof claims.sessionHandle !== "string" || !Number.isFinite(claims.exp) || !Number.isFinite(claims.iat)) {
    throw refuse("core access token claims are malformed");
  }
  if (expired((claims.exp as number) * 1000)) throw refuse("core access token expired");
  const payload: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) if (!required.includes(name)) payload[name] = value;
  return {
    userId: claims.sub,
    handle: claims.sessionHandle,
    iat: claims.iat as number,
    exp: claims.exp as number,
    payload,
    antiCsrfToken: typeof claims.antiCsrfToken === "string" ? claims.antiCsrfToken : null,
    // v3 ignores a custom tId (AccessTokenInfo.fromJSON): only v4+ name a tenant.
    tenantId: version >= 4 && typeof claims.tId === "string" ? claims.tId : "public",
  };
}

/** The session handle a core token names, without verifying it (to anchor a refresh, never to grant access). */
export function coreTokenHandle(token: string): string | undefined {
  if (!isCoreAccessToken(token)) return undefined;
  const [head, body] = token.split(".") as [string, string];
  const claims = decode(body, LEGACY_HEADERS.has(head) ? "base64" : "base64url");
  return typeof claims?.sessionHandle === "string" ? claims.sessionHandle : undefined;
}

function refuse(reason: string): SessionError {
  return new SessionError("TRY_REFRESH_TOKEN", reason);
}

function decode(segment: string, encoding: "base64" | "base64url"): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, encoding).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
