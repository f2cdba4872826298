// The floor of the token layer: the claim names latchkey writes itself, kept apart
// from signing and verifying so that payload and claim checks can name them without
// reaching up into the token code.

/** The root claim in which latchkey keeps the login time, in seconds since the epoch. */
export const AUTH_TIME_CLAIM = "authTime";

/** Claims latchkey owns; a user's payload may not set them. */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set(["sub", "sid", "iat", "exp", "iss", "aud", "nbf", "jti", AUTH_TIME_CLAIM]);
