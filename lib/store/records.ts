import type { RevokedSession, SessionMetadata, SessionRecord } from "./store";

/** The listing view of a session (no payload, session data or hash), shared by every store. */
export function metadataOf(row: SessionRecord): SessionMetadata {
  return {
    handle: row.handle,
    userId: row.userId,
    createdAt: row.createdAt,
    lastRefreshedAt: row.lastRefreshedAt,
    authTime: row.authTime,
    expiresAt: row.expiresAt,
    absoluteExpiresAt: row.absoluteExpiresAt,
    persistent: row.persistent,
    ip: row.ip,
    userAgent: row.userAgent,
    lastIp: row.lastIp,
    lastUserAgent: row.lastUserAgent,
  };
}

export function revokedOf(row: Pick<SessionRecord, "handle" | "userId" | "ip" | "userAgent">): RevokedSession {
  return { handle: row.handle, userId: row.userId, ip: row.ip, userAgent: row.userAgent };
}
