import type { ClientInfo } from "../hooks";
import type { Decision, SessionRecord, SessionUpdate } from "../store/store";
import { hashLineage, hashRefreshToken, lineageOf, sameHash, successorOf, type PresentedRefreshToken } from "../tokens/refresh";

export type RefreshOutcome =
  /** `rotated`: the row now holds `token`'s hash; otherwise the same successor was re-issued. */
  | { kind: "issued"; token: string; record: SessionRecord; rotated: boolean; presented: PresentedRefreshToken }
  | { kind: "refused"; reason: string }
  | { kind: "theft"; record: SessionRecord; reason: string };

export interface RotationContext {
  now: number;
  /**
   * Now on the clock every instance shares (the database's; see `SessionManager.sharedNow`):
   * the grace window compares it with `rotatedAt`, which is stamped on it, so an instance
   * whose clock is set apart from another's neither shortens nor stretches the window.
   */
  sharedNow: number;
  graceMs: number;
  /** The idle lifetime of sessions whose login chose none. */
  idleTtlMs: number;
  secret: Buffer;
  client: ClientInfo;
  /**
   * Set while resolving this instance's own rotation of this token, whose COMMIT went
   * unanswered: if it committed, the token is now the previous one, and it earns its
   * successor whatever the grace window says.
   */
  resolving?: PresentedRefreshToken | undefined;
}

/**
 * What a refresh does to a session row, decided under the row lock (or inside one
 * event-loop turn for the memory store). Pure and synchronous: a store may run it again
 * on a re-read row after a write conflict, and the lock is held for microseconds.
 *
 * `tokens` are the refresh tokens of this session the request carried (several only when
 * a browser holds cookies of two scopes after a `cookieDomain` change): the live one wins,
 * and stale duplicates from the same browser are not taken for theft.
 *
 * 1. The current token rotates: its successor becomes current, it becomes the previous one.
 * 2. The previous token, within `refreshGrace` of the rotation that replaced it (another
 *    tab, a lost response), or while the current one is known undelivered, earns the same
 *    successor again: parallel refreshes never fork the session.
 * 3. Any other token of this session's lineage — the previous one after the window, or one
 *    any number of rotations older, a 0.1 token (no lineage) included — is theft: the
 *    session is revoked.
 * 4. Anything else is a guess: refused, and nothing is revoked, so knowing a handle (which
 *    is not secret) is no way to end someone's session.
 */
export function decideRefresh(row: SessionRecord, tokens: PresentedRefreshToken[], context: RotationContext): Decision<RefreshOutcome> {
  const { now } = context;
  if (row.revokedAt !== null) return { result: { kind: "refused", reason: "session revoked" } };
  if (row.expiresAt <= now || row.absoluteExpiresAt <= now) return { result: { kind: "refused", reason: "session expired" } };

  const hashes = tokens.map((presented) => hashRefreshToken(presented.token));
  const current = tokens.findIndex((_, i) => sameHash(row.refreshTokenHash, hashes[i] as Buffer));
  if (current !== -1) return rotate(row, tokens[current] as PresentedRefreshToken, hashes[current] as Buffer, context);

  const previous = tokens.findIndex((_, i) => sameHash(row.prevRefreshTokenHash, hashes[i] as Buffer));
  if (previous !== -1) {
    const presented = tokens[previous] as PresentedRefreshToken;
    const successor = successorOf(presented, context.secret).token;
    const withinGrace = row.rotatedAt !== null && context.sharedNow - row.rotatedAt <= context.graceMs;
    const resolving = context.resolving?.token === presented.token;
    if ((withinGrace || row.undelivered || resolving) && sameHash(row.refreshTokenHash, hashRefreshToken(successor))) {
      // Re-issued: it has reached a client now, so a later presentation of the previous
      // token is theft again once the window has passed. The row records the delivery
      // (lastRefreshedAt), so that a background resolution of the rotation no longer takes
      // the successor for undelivered.
      const update: SessionUpdate = { lastRefreshedAt: now, ...(row.undelivered ? { undelivered: false } : {}) };
      return { update, result: { kind: "issued", token: successor, record: { ...row, ...update }, rotated: false, presented } };
    }
    return revoke(row, now, "the previous refresh token was reused after the grace window");
  }

  if (row.lineageHash !== null) {
    const lineage = row.lineageHash;
    if (tokens.some((presented) => sameHash(lineage, hashLineage(lineageOf(presented, context.secret))))) {
      return revoke(row, now, "a refresh token of this session that is no longer current was presented");
    }
  }
  return { result: { kind: "refused", reason: "refresh token does not match" } };
}

/** What a write whose COMMIT went unanswered left in the row, if it landed. */
export type UnconfirmedWrite = Pick<SessionRecord, "rotatedAt" | "lastRefreshedAt">;

/**
 * The decision of a background resolution: mark the current token undelivered if the write
 * that issued `presented`'s successor committed and nothing has happened to the row since.
 * The row must hold exactly what that write left — the successor, `presented` as the
 * previous token, and its stamps — because another instance may have delivered the same
 * successor meanwhile (a retry within the window stamps the row) or rotated further; marking
 * it then would let the old token, anyone's copy of it, earn the live one after the window.
 */
export function decideUndelivered(row: SessionRecord, presented: PresentedRefreshToken, secret: Buffer, wrote: UnconfirmedWrite): Decision<boolean> {
  const landed =
    row.revokedAt === null &&
    row.rotatedAt === wrote.rotatedAt &&
    row.lastRefreshedAt === wrote.lastRefreshedAt &&
    sameHash(row.prevRefreshTokenHash, hashRefreshToken(presented.token)) &&
    sameHash(row.refreshTokenHash, hashRefreshToken(successorOf(presented, secret).token));
  return landed && !row.undelivered ? { update: { undelivered: true }, result: true } : { result: landed };
}

function rotate(row: SessionRecord, presented: PresentedRefreshToken, presentedHash: Buffer, context: RotationContext): Decision<RefreshOutcome> {
  const { now } = context;
  const successor = successorOf(presented, context.secret);
  const update: SessionUpdate = {
    refreshTokenHash: hashRefreshToken(successor.token),
    prevRefreshTokenHash: presentedHash,
    rotatedAt: context.sharedNow,
    undelivered: false,
    lastRefreshedAt: now,
    expiresAt: Math.min(now + (row.idleTtl ?? context.idleTtlMs), row.absoluteExpiresAt),
    lastIp: context.client.ip,
    lastUserAgent: context.client.userAgent,
  };
  // A session from before 0.2 gets its lineage at its first rotation.
  if (row.lineageHash === null) update.lineageHash = hashLineage(successor.lineage);
  return { update, result: { kind: "issued", token: successor.token, record: { ...row, ...update }, rotated: true, presented } };
}

function revoke(row: SessionRecord, now: number, reason: string): Decision<RefreshOutcome> {
  return { update: { revokedAt: now }, result: { kind: "theft", record: { ...row, revokedAt: now }, reason } };
}
