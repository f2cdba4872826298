import { parseDuration } from "./duration";

// The one validation kit: every "(got ...)" in latchkey's TypeErrors comes from describe,
// every "Did you mean" from closest, so that a bad value reads the same wherever it is
// refused and no message ever echoes a secret. It imports nothing but lib/duration.ts,
// so that any file may use it.

export function duration(name: string, value: unknown): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new TypeError(
      `latchkey: option ${name} must be seconds as a positive number or a string such as "500ms", "15m" or "30d" (got ${describe(value)}).`,
    );
  }
  return ms;
}

export function count(name: string, value: unknown, min = 0): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > 1_000_000) {
    throw new TypeError(`latchkey: option ${name} must be a whole number from ${min} to 1000000 (got ${describe(value)}).`);
  }
  return value as number;
}

export function flag(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`latchkey: option ${name} must be true or false (got ${describe(value)}).`);
  }
  return value;
}

export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 255) {
    throw new TypeError(`latchkey: option ${name} must be a non-empty string of at most 255 characters (got ${describe(value)}).`);
  }
  return value;
}

export function oneOf<T extends string | boolean>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((item) => JSON.stringify(item)).join(", ");
    throw new TypeError(`latchkey: option ${name} must be one of ${list} (got ${describe(value)}).`);
  }
  return value as T;
}

export function fn<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`latchkey: option ${name} must be a function (got ${describe(value)}).`);
  }
  return value;
}

/**
 * Shows a bad value without echoing anything that could be a secret: a string long enough
 * to be a token or holding a PEM header (a key pasted whole), and a Buffer, are described,
 * never quoted. Short strings are quoted as JSON, so a line break shows as \n and cannot
 * forge a log line.
 */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 64 || value.includes("-----BEGIN") ? `a ${value.length}-character string` : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : `an array of ${value.length}`;
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * " Did you mean x?" for a mistyped name, or "": a known alias first (a name another
 * library uses for the same thing), else the closest candidate.
 */
export function didYouMean(name: string, candidates: readonly string[], aliases?: ReadonlyMap<string, string>): string {
  const guess = aliases?.get(name) ?? closest(name, candidates);
  return guess === undefined ? "" : ` Did you mean ${guess}?`;
}

// Case-insensitive, at most 3 edits away.
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
