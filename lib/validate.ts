import { RESERVED_CLAIMS } from "./tokens/access";

/** Longest user id accepted, in characters (the column is VARBINARY(1020): 255 characters of UTF-8). */
export const MAX_USER_ID_LENGTH = 255;
/** Largest custom access-token payload, as JSON bytes, so the token still fits in a cookie. */
export const MAX_PAYLOAD_BYTES = 2048;
/** Largest session data, as JSON bytes. */
export const MAX_SESSION_DATA_BYTES = 65_536;

// mysql2 expands an object or array parameter into SQL, so only checked strings may
// ever reach a query as a user id or handle.
export function checkUserId(userId: unknown): string {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw new TypeError(
      `latchkey: userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters (got ${kind(userId)}). ` +
        "Convert numeric ids with String(id).",
    );
  }
  return userId;
}

const HANDLE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A session handle as latchkey makes them (a UUID), or `undefined`: anything else names no session. */
export function checkHandle(handle: unknown): string | undefined {
  return typeof handle === "string" && HANDLE.test(handle) ? handle : undefined;
}

export function checkPayload(payload: unknown): Record<string, unknown> {
  const object = plainObject("accessTokenPayload", payload ?? {}, MAX_PAYLOAD_BYTES);
  for (const claim of Object.keys(object)) {
    // Names Object.prototype already has (toString, constructor, __proto__, ...) break
    // jsonwebtoken's claim validation, and no reader of a token expects them.
    if (claim in Object.prototype) {
      throw new TypeError(`latchkey: accessTokenPayload may not use the key "${claim}": it is a built-in property name.`);
    }
    if (RESERVED_CLAIMS.has(claim)) {
      throw new TypeError(
        `latchkey: accessTokenPayload may not set the reserved claim "${claim}"; latchkey writes ${[...RESERVED_CLAIMS].join(", ")} itself.`,
      );
    }
  }
  return object;
}

export function checkSessionData(data: unknown): Record<string, unknown> {
  return plainObject("sessionData", data ?? {}, MAX_SESSION_DATA_BYTES);
}

function plainObject(name: string, value: unknown, maxBytes: number): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`latchkey: ${name} must be a plain object (got ${kind(value)}).`);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw new TypeError(`latchkey: ${name} must be JSON-serialisable (it contains a cycle or a BigInt).`);
  }
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxBytes) {
    throw new TypeError(`latchkey: ${name} is ${bytes} bytes as JSON; the limit is ${maxBytes}.`);
  }
  // Round-trip so that what is stored is exactly what will be read back.
  return JSON.parse(json) as Record<string, unknown>;
}

function kind(value: unknown): string {
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
