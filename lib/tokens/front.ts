import type { AccessClaims } from "./access";

/**
 * The SDK's view of the session (`front-token`): standard base64 (not base64url: the SDK
 * decodes it with `atob`) of the UTF-8 JSON `{uid, ate, up}`, `ate` in milliseconds —
 * exactly `exp`.
 */
export function frontToken(claims: AccessClaims): string {
  return Buffer.from(JSON.stringify({ uid: claims.sub, ate: claims.exp * 1000, up: claims }), "utf8").toString("base64");
}
