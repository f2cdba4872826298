import type { ClientInfo, TheftEvent } from "../hooks";
import type { SessionManager } from "../manager";
import type { SessionRecord } from "../store/store";
import { hashRefreshToken, sameHash, type PresentedRefreshToken } from "../tokens/refresh";

/**
 * Tells the log and `onTheftDetected` of a refresh token reused after rotation, with what
 * an operator needs to tell a thief from a client bug (issue 22): who and where the
 * presenter is, where the legitimate holder last refreshed from, and how long ago the
 * presented token was replaced — a tab replaying the previous token seconds late looks
 * nothing like a token from last week presented from another continent. Never a token.
 */
export function reportTheft(
  manager: SessionManager,
  record: SessionRecord,
  tokens: readonly PresentedRefreshToken[],
  client: ClientInfo,
  reason: string,
  decidedAt: number | undefined,
): void {
  const replayed = tokens.some((presented) => sameHash(record.prevRefreshTokenHash, hashRefreshToken(presented.token))) ? "previous" : "older";
  const base = manager.event(record, client);
  // rotatedAt is stamped on the clock the instances share for the grace window (the
  // database's, see SessionManager.sharedNow): measure the age there, and report it on this
  // instance's clock, beside `at`.
  const agoMs = record.rotatedAt === null ? null : (decidedAt ?? base.at) - record.rotatedAt;
  const event: TheftEvent = {
    ...base,
    holderIp: record.lastIp ?? record.ip,
    holderUserAgent: record.lastUserAgent ?? record.userAgent,
    supersededAt: agoMs === null ? null : base.at - agoMs,
    replayed,
  };
  const ago = event.supersededAt === null ? "" : `, ${replayed === "previous" ? "" : "at least "}${Math.round((event.at - event.supersededAt) / 1000)} s after it was replaced`;
  manager.log.warn(
    `refresh token reuse detected (${reason}): session ${record.handle} of user ${JSON.stringify(record.userId)} revoked; ` +
      `the ${replayed} token was presented from ${client.ip ?? "an unknown IP"} at ${new Date(event.at).toISOString()}${ago}; ` +
      `the holder last refreshed from ${event.holderIp ?? "an unknown IP"}`,
    {
      code: "TOKEN_THEFT_DETECTED",
      userId: record.userId,
      handle: record.handle,
      clientIp: client.ip,
      clientUserAgent: client.userAgent,
      holderIp: event.holderIp,
      holderUserAgent: event.holderUserAgent,
      supersededAt: event.supersededAt,
      replayed,
      at: event.at,
    },
  );
  manager.emit("onTheftDetected", event);
}
