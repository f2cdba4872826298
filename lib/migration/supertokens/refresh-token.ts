import { createDecipheriv, createHash, pbkdf2Sync, timingSafeEqual } from "node:crypto";

/**
 * The core's refresh token (reference B.3): `<enc>.<nonce>.V2`, where `enc` is standard
 * Base64 of IV(12) ‖ AES-256-GCM ciphertext ‖ tag(16), under a key derived per token by
 * PBKDF2-HMAC-SHA512(password = the whole `refresh_token_key` value, salt = the IV, 100
 * iterations, 32 bytes). Latchkey only ever decrypts these; it never makes one.
 */
const CORE_REFRESH_TOKEN = /^([A-Za-z0-9+/]+={0,2})\.([0-9a-f]{64})\.V2$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// The core's tokens are about 300-500 characters; anything far longer is not one.
const MAX_LENGTH = 2048;

/** What a core refresh token carries, once decrypted and checked. */
export interface CoreRefreshToken {
  token: string;
  handle: string;
  userId: string;
  /** `sha256hex` of the parent token, for a child the legacy protocol has not promoted yet. */
  parentHash1: string | undefined;
  antiCsrfToken: string | undefined;
  /** `undefined` for the public tenant (the core leaves it out). */
  tenantId: string | undefined;
  /** `sha256hex(sha256hex(token))`: what `session_info.refresh_token_hash_2` holds for the current token. */
  hash2: Buffer;
}

/** Whether a value has the core refresh token's shape (a latchkey token never does). */
export function isCoreRefreshToken(value: string): boolean {
  return value.length <= MAX_LENGTH && CORE_REFRESH_TOKEN.test(value);
}

/**
 * Decrypts a core refresh token, or `undefined` for anything the core would answer
 * UNAUTHORISED: a wrong shape, a failed tag, a nonce that differs from the clear one,
 * a missing handle or user id. The master key is a secret: never logged, never echoed.
 */
export function decryptCoreRefreshToken(token: string, masterKey: string): CoreRefreshToken | undefined {
  const match = token.length <= MAX_LENGTH ? CORE_REFRESH_TOKEN.exec(token) : null;
  if (!match) return undefined;
  const sealed = Buffer.from(match[1] as string, "base64");
  if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
  const iv = sealed.subarray(0, IV_BYTES);
  let plain: string;
  try {
    const key = pbkdf2Sync(masterKey, iv, 100, 32, "sha512");
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
  let payload: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(plain);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    payload = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const nonce = payload.nonce;
  if (typeof nonce !== "string" || nonce.length !== 64 || !timingSafeEqual(Buffer.from(nonce), Buffer.from(match[2] as string))) return undefined;
  const { sessionHandle, userId } = payload;
  if (typeof sessionHandle !== "string" || sessionHandle.length === 0 || typeof userId !== "string" || userId.length === 0) return undefined;
  return {
    token,
    handle: sessionHandle,
    userId,
    parentHash1: optionalString(payload.parentRefreshTokenHash1),
    antiCsrfToken: optionalString(payload.antiCsrfToken),
    tenantId: optionalString(payload.tenantId),
    hash2: Buffer.from(sha256hex(sha256hex(token)), "hex"),
  };
}

/** Lower-case hex SHA-256 of UTF-8, the core's `Utils.hashSHA256`. */
export function sha256hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
