import { describe } from "../check";
import { RESERVED_CLAIMS } from "../tokens/reserved";

/** A value JSON carries unchanged: what SuperTokens' primitive claims may hold. */
export type JSONPrimitive = string | number | boolean | null;

// Claim keys and validator ids end up in JSON bodies, logs and a JWT; a small safe
// alphabet keeps them printable and free of log-injection characters.
const SAFE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const SAFE_NAME_RULE = "1-64 characters from A-Z a-z 0-9 _ . : -";

export function isJsonPrimitive(value: unknown): value is JSONPrimitive {
  // NaN and ±Infinity are numbers but JSON turns them into null, so a stored claim
  // would silently change value between signing and reading.
  return value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
}

/** A claim key: safe characters, not a built-in property name, not one of latchkey's claims. */
export function checkClaimKey(subject: string, key: unknown): string {
  if (typeof key !== "string" || !SAFE_NAME.test(key)) {
    throw new TypeError(`latchkey: ${subject}: option key must be ${SAFE_NAME_RULE}, such as "st-ev" or "st-role" (got ${describe(key)}).`);
  }
  // JSON.parse gives a payload an own "__proto__" or "constructor", but code that
  // reads payload[key] would find the built-in first.
  if (key in Object.prototype) {
    throw new TypeError(`latchkey: ${subject}: option key may not be "${key}": it is a built-in property name. Pick another key.`);
  }
  // A claim stored under one of latchkey's own keys would overwrite it.
  if (RESERVED_CLAIMS.has(key)) {
    throw new TypeError(
      `latchkey: ${subject}: option key may not be "${key}": latchkey writes ${[...RESERVED_CLAIMS].join(", ")} itself. Pick another key.`,
    );
  }
  return key;
}

/** A max age in seconds: any positive number, `Infinity` meaning "never stale". */
export function checkMaxAge(subject: string, name: string, value: unknown, hint: string): number {
  if (typeof value !== "number" || !(value > 0)) {
    throw new TypeError(`latchkey: ${subject}: ${name} must be a positive number of seconds (got ${describe(value)}). ${hint}`);
  }
  return value;
}

export function checkValidatorId(subject: string, id: unknown): string {
  if (typeof id !== "string" || !SAFE_NAME.test(id)) {
    throw new TypeError(`latchkey: ${subject}: id must be ${SAFE_NAME_RULE} (got ${describe(id)}). Omit it to use the claim key.`);
  }
  return id;
}

/**
 * Reads an own data property, or `undefined`. Never runs a getter, never reads the
 * prototype chain, never throws (a Proxy can): payloads are data, and a claim read from
 * an odd one counts as missing rather than failing the request.
 */
export function ownData(object: unknown, name: string): unknown {
  if (typeof object !== "object" || object === null) return undefined;
  try {
    const descriptor = Object.getOwnPropertyDescriptor(object, name);
    return descriptor !== undefined && "value" in descriptor ? descriptor.value : undefined;
  } catch {
    return undefined;
  }
}
