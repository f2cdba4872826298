import { RESERVED_CLAIMS } from "./tokens/reserved";

/** Longest user id accepted, in characters (the column is VARBINARY(1020): 255 characters of UTF-8). */
export const MAX_USER_ID_LENGTH = 255;
/** Largest custom access-token payload, as JSON bytes, so the token still fits in a cookie. */
export const MAX_PAYLOAD_BYTES = 2048;
/** Largest session data, as JSON bytes. */
export const MAX_SESSION_DATA_BYTES = 65_536;
/** Deepest nesting of objects and arrays kept: MariaDB's JSON columns refuse 32 levels. */
export const MAX_JSON_DEPTH = 31;

// A UTF-16 surrogate that is not half of a pair: it has no UTF-8 form, so MySQL stores it
// as "?" (two user ids would collide) and refuses it inside JSON. The memory store would
// keep it, so both refuse it here, before either sees it.
const LONE_SURROGATE = /\p{Surrogate}/u;
// JSON.stringify writes paired surrogates as they are and a lone one as an escape,
// \udXXX: one whose backslash is not itself escaped (an odd run of backslashes).
const LONE_SURROGATE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i;

// mysql2 expands an object or array parameter into SQL, so only checked strings may
// ever reach a query as a user id or handle.
export function checkUserId(userId: unknown): string {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw new TypeError(
      `latchkey: userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters (got ${kind(userId)}). ` +
        "Convert numeric ids with String(id).",
    );
  }
  if (LONE_SURROGATE.test(userId)) {
    throw new TypeError("latchkey: userId must be well-formed Unicode (it holds a lone UTF-16 surrogate, which no database can store as text).");
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

/** Merges a payload update (`null` deletes a key) and checks the result. */
export function mergePayload(current: Readonly<Record<string, unknown>>, update: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return checkPayload(merged);
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
  if (LONE_SURROGATE_ESCAPE.test(json)) {
    throw new TypeError(`latchkey: ${name} must be well-formed Unicode: it holds a lone UTF-16 surrogate, which a JSON column refuses.`);
  }
  if (depthOf(json) > MAX_JSON_DEPTH) {
    throw new TypeError(`latchkey: ${name} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep, more than MariaDB's JSON columns keep.`);
  }
  // Round-trip so that what is stored is exactly what will be read back.
  return JSON.parse(json) as Record<string, unknown>;
}

// Nesting of the serialised JSON, counted over the text so that it costs no recursion.
function depthOf(json: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

function kind(value: unknown): string {
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
