import jwt from "jsonwebtoken";
import { SessionError } from "../errors";
import type { KeyRing, LoadedKey } from "../keys";

/** The JOSE `typ` of latchkey access tokens (RFC 9068), so no other JWT can pass for one. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/** Cookies top out near 4 KB; larger tokens would be dropped silently by browsers. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;

/** The reason of a token signed by a key this instance does not know (yet). */
export const UNKNOWN_KEY = "access token names an unknown or retired key";

/** Future `iat` accepted as clock skew between instances (DESIGN §3: at most 5 s). */
const IAT_LEEWAY_SECONDS = 5;
/** The start of the reason of a token issued by a clock running ahead. */
export const CLOCK_SKEW = "clock skew between instances";
/** Future `iat` up to this is skew a refresh can cure ("try refresh token"), past it a forgery. */
const IAT_SKEW_SECONDS = 300;

// Compact JWS only: three base64url segments. Anything else (JWE, JSON serialisation,
// padding, whitespace) is refused before any parsing (RFC 8725bis "check JWT format").
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

// The order of P-256 and half of it: an ECDSA signature (r, s) also verifies as (r, n - s),
// so only the low-S form is issued and accepted, and a token has exactly one encoding.
// Big-endian 32-byte buffers: Buffer.compare orders them as numbers, and n - s is a byte-wise
// subtraction, so the low-S step of every login costs no BigInt or hex round trip.
const P256_ORDER = Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex");
const P256_HALF_ORDER = Buffer.from("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8", "hex");

// jsonwebtoken checks on every sign that the key fits the algorithm (reading the key's
// details from OpenSSL). A key that passed once is the same KeyObject for the rest of its
// life, so only its first signature pays the check; a key that fails keeps failing.
const checkedKeys = new WeakSet<object>();

export interface AccessClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud?: string;
  /** Seconds since the epoch when the user last proved who they are. */
  authTime?: number;
  [claim: string]: unknown;
}

export interface TokenSettings {
  issuer: string;
  audience: string | undefined;
  /** The configured access-token lifetime: no token may claim a longer one. */
  accessTokenTtlMs: number;
}

/** Signs an access token; `iat`, `exp` and `authTime` are seconds, as in the JWT. */
export function signAccessToken(
  key: LoadedKey,
  settings: TokenSettings,
  claims: { userId: string; handle: string; payload: Record<string, unknown>; iat: number; exp: number; authTime: number },
): string {
  const body: Record<string, unknown> = {
    ...claims.payload,
    sub: claims.userId,
    sid: claims.handle,
    iat: claims.iat,
    exp: claims.exp,
    iss: settings.issuer,
    authTime: claims.authTime,
  };
  if (settings.audience !== undefined) body.aud = settings.audience;
  const token = jwt.sign(body, key.privateKey, {
    algorithm: key.algorithm,
    header: { alg: key.algorithm, typ: ACCESS_TOKEN_TYPE, kid: key.kid },
    allowInvalidAsymmetricKeyTypes: checkedKeys.has(key.privateKey),
  });
  checkedKeys.add(key.privateKey);
  return key.algorithm === "ES256" ? withLowS(token) : token;
}

/**
 * Verifies an access token with no I/O. Throws `TRY_REFRESH_TOKEN` when a refresh can
 * help (expired, a key this instance does not know, a lifetime or clock the configuration
 * no longer matches) and `UNAUTHORISED` otherwise.
 *
 * jsonwebtoken checks the signature, `exp`, `nbf`, `iss` and `aud`; the rest of RFC 8725's
 * advice (pinned algorithm per key, `typ`, `crit`, required `exp`, future `iat`, object
 * payloads, well-formed claims, one encoding per token) is checked here.
 * `ignoreExpiration` is for proving which session a request belongs to, never for access.
 */
export function verifyAccessToken(
  token: string,
  keys: KeyRing,
  settings: TokenSettings,
  nowMs: number,
  options: { ignoreExpiration?: boolean } = {},
): AccessClaims {
  if (!isCompactJws(token)) throw new SessionError("UNAUTHORISED", "access token is not a compact JWS");
  const header = decodeSegment(token.slice(0, token.indexOf(".")));
  if (!header || header.typ !== ACCESS_TOKEN_TYPE || "crit" in header) {
    throw new SessionError("UNAUTHORISED", "access token header is not latchkey's");
  }
  const key = keys.verificationKey(header.kid);
  if (!key) throw new SessionError("TRY_REFRESH_TOKEN", UNKNOWN_KEY);
  if (header.alg !== key.algorithm) throw new SessionError("UNAUTHORISED", "access token algorithm does not match its key");
  checkSignatureEncoding(token.slice(token.lastIndexOf(".") + 1), key.algorithm);

  const now = Math.floor(nowMs / 1000);
  let payload: unknown;
  try {
    payload = jwt.verify(token, key.publicKey, {
      algorithms: [key.algorithm],
      issuer: settings.issuer,
      ...(settings.audience !== undefined ? { audience: settings.audience } : {}),
      clockTimestamp: now,
      ignoreExpiration: options.ignoreExpiration === true,
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new SessionError("TRY_REFRESH_TOKEN", "access token expired");
    throw new SessionError("UNAUTHORISED", "access token failed verification", { cause: error });
  }
  if (!isWellFormed(payload)) throw new SessionError("UNAUTHORISED", "access token claims are malformed");
  checkTimes(payload, key, settings, now);
  return nullPrototypeCopy(payload);
}

/** Whether a value has the shape of an access token at all (a bearer "undefined" does not). */
/**
 * Whether a JWT is structurally latchkey's: its header says `typ: at+jwt` and names a key
 * of this deployment. Only then may a bearer token take precedence over the session cookie.
 */
export function isOwnAccessToken(keys: Pick<KeyRing, "isOwnKid">, token: string): boolean {
  const header = decodeSegment(token.slice(0, token.indexOf(".")));
  return header !== undefined && header.typ === ACCESS_TOKEN_TYPE && keys.isOwnKid(header.kid);
}

export function isCompactJws(token: string): boolean {
  return token.length <= MAX_ACCESS_TOKEN_LENGTH && COMPACT_JWS.test(token);
}

function checkTimes(claims: AccessClaims, key: LoadedKey, settings: TokenSettings, now: number): void {
  const ahead = claims.iat - now;
  if (ahead > IAT_SKEW_SECONDS) throw new SessionError("UNAUTHORISED", "access token issued far in the future");
  // A signer whose clock runs ahead: refreshing (on any instance) issues a token this one accepts.
  if (ahead > IAT_LEEWAY_SECONDS) throw new SessionError("TRY_REFRESH_TOKEN", `${CLOCK_SKEW}: access token issued ${ahead} s in the future`);
  // exp is floored from milliseconds, so a token lives at most accessTokenTtl, rounded up
  // to whole seconds of the iat it carries.
  if ((claims.exp - claims.iat) * 1000 > settings.accessTokenTtlMs + 1000) {
    throw new SessionError("TRY_REFRESH_TOKEN", "access token lives longer than accessTokenTtl allows");
  }
  if (claims.iat < Math.floor(key.signsFrom / 1000)) {
    throw new SessionError("UNAUTHORISED", "access token claims to predate its signing key");
  }
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
    Number.isFinite(claims.iat) &&
    (claims.authTime === undefined || Number.isFinite(claims.authTime))
  );
}

// Claims go on an object without a prototype: a "__proto__" key in a payload stays an
// ordinary property and can never become the prototype of what routes read.
function nullPrototypeCopy(payload: AccessClaims): AccessClaims {
  const claims = Object.create(null) as AccessClaims;
  for (const key of Object.keys(payload)) claims[key] = (payload as Record<string, unknown>)[key];
  return claims;
}

// One token, one encoding: the verified-token cache, logs and anyone comparing tokens
// may rely on a token not having look-alikes that verify just as well.
function checkSignatureEncoding(signature: string, algorithm: LoadedKey["algorithm"]): void {
  const bytes = Buffer.from(signature, "base64url");
  // Re-encoding must give back the same text (the last character's unused bits are zero):
  // no signer produces anything else, so a variant is tampering.
  if (bytes.toString("base64url") !== signature) throw new SessionError("UNAUTHORISED", "access token signature is not canonical base64url");
  if (algorithm !== "ES256") return;
  if (bytes.length !== 64) throw new SessionError("UNAUTHORISED", "access token signature has the wrong length");
  // High S: what latchkey 0.1 could issue before it normalised its signatures; a refresh
  // replaces it with the low-S form.
  if (Buffer.compare(bytes.subarray(32), P256_HALF_ORDER) > 0) {
    throw new SessionError("TRY_REFRESH_TOKEN", "access token signature is not in low-S form");
  }
}

function withLowS(token: string): string {
  const dot = token.lastIndexOf(".");
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  if (Buffer.compare(signature.subarray(32), P256_HALF_ORDER) <= 0) return token;
  // s := n - s, big-endian with borrow.
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    const digit = (P256_ORDER[i] as number) - (signature[32 + i] as number) - borrow;
    borrow = digit < 0 ? 1 : 0;
    signature[32 + i] = digit & 0xff;
  }
  return `${token.slice(0, dot + 1)}${signature.toString("base64url")}`;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
