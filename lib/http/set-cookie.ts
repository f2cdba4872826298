import type { CookieAttributes } from "./seam";

/** An expiry in the past: what clearing a cookie sends (as Express's `res.clearCookie` does). */
const EPOCH = new Date(0);

/**
 * A `Set-Cookie` line for a token cookie, byte for byte what Express (the `cookie` package)
 * writes, so every adapter sends the same header: `name=value; Domain; Path; Expires;
 * HttpOnly; Secure; SameSite`. Names and values here are latchkey's own (cookie names, JWTs,
 * base64url refresh tokens), never user input, so they need no encoding.
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  let line = `${name}=${value}`;
  if (attributes.domain !== undefined) line += `; Domain=${attributes.domain}`;
  line += `; Path=${attributes.path}`;
  if (attributes.expires !== undefined) line += `; Expires=${attributes.expires.toUTCString()}`;
  line += "; HttpOnly";
  if (attributes.secure) line += "; Secure";
  line += `; SameSite=${attributes.sameSite === "lax" ? "Lax" : attributes.sameSite === "strict" ? "Strict" : "None"}`;
  return line;
}

/** The `Set-Cookie` line that expires a cookie set with `attributes`. */
export function serializeClearedCookie(name: string, attributes: CookieAttributes): string {
  return serializeCookie(name, "", { ...attributes, expires: EPOCH });
}
