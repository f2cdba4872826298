import type { Session } from "latchkey";

export function tamper(session: Session): void {
  // @ts-expect-error -- read-only: change the payload with mergeIntoAccessTokenPayload.
  session.accessTokenPayload = {};
  // @ts-expect-error -- read-only: set by login or re-authentication.
  session.authTime = 0;
  // @ts-expect-error -- read-only.
  session.userId = "someone-else";
  // @ts-expect-error -- read-only.
  session.handle = "h";
  // @ts-expect-error -- read-only.
  session.expiresAt = Infinity;
}
