import { NO_CLIENT, type ClientInfo, type RevokeReason } from "../hooks";
import type { SessionManager } from "../manager";
import { OUTCOME_UNKNOWN, type SessionRecord, type SessionUpdate } from "../store/store";
import { checkHandle, checkPayload, checkSessionData, checkUserId, mergePayload } from "../validate";
import type { CleanupResult, ListedSession, ListSessionsOptions, SessionInformation, SessionList } from "./types";

const MAX_PAGE = 1000;
const CURSOR = /^(\d{1,16})\.([0-9a-f-]{36})$/;

/** Revokes one session. Resolves `false` for unknown or already revoked handles. */
export async function revokeSession(manager: SessionManager, handle: unknown, reason: RevokeReason, client: ClientInfo = NO_CLIENT): Promise<boolean> {
  const valid = checkHandle(handle);
  if (!valid) return false;
  const revoke = () =>
    manager.store.updateSession(valid, (row) => {
      // Stamped under the lock: the stamp is at most one store deadline older than the
      // commit that makes it visible, which the revocation poll's overlap covers.
      const at = manager.now();
      return row.revokedAt === null ? { update: { revokedAt: at }, result: { ...row, revokedAt: at } } : { result: null };
    });
  const revoked = await manager.guard("revoke a session", async () => {
    try {
      return await revoke();
    } catch (error) {
      if ((error as { code?: unknown }).code !== OUTCOME_UNKNOWN) throw error;
      // Resolved by reading: revoked now (by this call or another) or not, never guessed.
      const row = await manager.store.findSession(valid);
      if (row?.revokedAt == null) throw error;
      return row;
    }
  });
  if (!revoked) return false;
  manager.revoked([revoked], revoked.revokedAt ?? manager.now(), reason, client);
  return true;
}

/** Revokes every live session of a user ("sign out everywhere"); resolves to the handles revoked. */
export async function revokeAllSessionsForUser(manager: SessionManager, userId: unknown, client: ClientInfo = NO_CLIENT): Promise<string[]> {
  const user = checkUserId(userId);
  const revoked = await manager.guard("revoke a user's sessions", () => manager.store.revokeSessionsOfUser(user, () => manager.now()));
  manager.revoked(revoked, manager.now(), "revoke-all", client);
  return revoked.map((session) => session.handle);
}

/** Revokes every other session of the user who owns `currentHandle` — if it is live; resolves to the handles revoked. */
export async function revokeOtherSessions(manager: SessionManager, currentHandle: unknown, client: ClientInfo = NO_CLIENT): Promise<string[]> {
  const current = await getSessionInformation(manager, currentHandle);
  // Only a live session may end its siblings: a revoked or expired handle ends nothing.
  if (!current || current.revokedAt !== null || !isLive(current, manager.now())) return [];
  const revoked = await manager.guard("revoke a user's other sessions", () =>
    manager.store.revokeSessionsOfUser(current.userId, () => manager.now(), { except: current.handle }),
  );
  manager.revoked(revoked, manager.now(), "admin", client);
  return revoked.map((session) => session.handle);
}

/** Everything known about one session, or `null` when the handle is unknown. */
export async function getSessionInformation(manager: SessionManager, handle: unknown): Promise<SessionInformation | null> {
  const valid = checkHandle(handle);
  if (!valid) return null;
  const row = await manager.guard("read a session", () => manager.store.findSession(valid));
  return row ? informationOf(row, manager.options.refreshTokenTtlMs) : null;
}

/**
 * A user's live sessions with device metadata, oldest first, a page at a time when
 * `limit` is given (pass the page's `nextCursor` for the next one).
 */
export async function listSessions(manager: SessionManager, userId: unknown, options: ListSessionsOptions = {}): Promise<SessionList> {
  const user = checkUserId(userId);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (options.limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)) {
    throw new TypeError(`latchkey: listSessions limit must be a whole number from 1 to ${MAX_PAGE} (got ${String(options.limit)}).`);
  }
  let after = cursorPosition(options.cursor);
  const sessions: ListedSession[] = [];
  const now = manager.now();
  // Without a limit, every page is read (MAX_PAGE rows per query).
  while (sessions.length < limit) {
    const want = Math.min(MAX_PAGE, limit - sessions.length);
    const page = await manager.guard("list sessions", () => manager.store.listForUser(user, now, { limit: want, ...(after ? { after } : {}) }));
    for (const row of page) sessions.push({ ...row, current: row.handle === options.currentHandle });
    const last = page.at(-1);
    if (page.length < want || !last) break;
    after = { createdAt: last.createdAt, handle: last.handle };
  }
  const last = sessions.at(-1);
  const more = options.limit !== undefined && sessions.length === limit && last !== undefined;
  // Not enumerable: the list still compares, spreads and serialises as a plain array.
  return Object.defineProperty(sessions, "nextCursor", { value: more ? `${last.createdAt}.${last.handle}` : null, enumerable: false }) as SessionList;
}

/** Replaces a live session's server-side data. Resolves `false` for unknown or ended sessions. */
export async function updateSessionData(manager: SessionManager, handle: unknown, data: unknown): Promise<boolean> {
  const sessionData = checkSessionData(data);
  return (await updateLive(manager, handle, () => ({ sessionData }))) !== null;
}

/**
 * Merges `update` into a live session's stored access-token payload (`null` deletes a key),
 * resolving to the updated session (or `null`). The merged payload is signed under the row
 * lock before it is stored: one that could not be issued (too large) is refused, not stored.
 */
export async function updateAccessTokenPayload(manager: SessionManager, handle: unknown, update: unknown): Promise<SessionRecord | null> {
  const changes = checkPayload(update);
  return updateLive(manager, handle, (row) => {
    const accessTokenPayload = mergePayload(row.accessTokenPayload, changes);
    manager.sign({ ...row, accessTokenPayload });
    return { accessTokenPayload };
  });
}

/**
 * Deletes expired sessions in small batches (so no single statement holds locks for
 * long), then signing keys that can no longer verify anything, then claim invalidations
 * no token can still need.
 */
export async function cleanup(
  manager: SessionManager,
  options: { batchSize?: number; maxBatches?: number; onProgress?: (deleted: number) => void } = {},
): Promise<CleanupResult> {
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`latchkey: cleanup batchSize must be a positive whole number (got ${String(batchSize)}).`);
  }
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  let sessions = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await manager.guard("delete expired sessions", () => manager.store.deleteExpired(manager.now(), batchSize));
    sessions += deleted.length;
    for (const row of deleted) {
      // Sessions that were revoked earlier already had their onRevoked.
      if (row.revokedAt === null) manager.emit("onRevoked", { ...manager.event(row, NO_CLIENT), reason: "expiry" });
    }
    if (deleted.length > 0) options.onProgress?.(sessions);
    if (deleted.length < batchSize) break;
    // Yield between batches so requests sharing the pool and the table go first.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const keys = await manager.guard("delete retired keys", () => manager.keys.deleteRetired());
  await manager.guard("delete old claim invalidations", () => manager.store.deleteClaimInvalidations(manager.now() - manager.retentionMs));
  return { sessions, keys };
}

export function isLive(row: Pick<SessionRecord, "expiresAt" | "absoluteExpiresAt">, now: number): boolean {
  return row.expiresAt > now && row.absoluteExpiresAt > now;
}

export function informationOf(row: SessionRecord, defaultIdleTtl: number): SessionInformation {
  return {
    handle: row.handle,
    userId: row.userId,
    accessTokenPayload: row.accessTokenPayload,
    sessionData: row.sessionData,
    createdAt: row.createdAt,
    lastRefreshedAt: row.lastRefreshedAt,
    authTime: row.authTime,
    expiresAt: row.expiresAt,
    absoluteExpiresAt: row.absoluteExpiresAt,
    idleTtl: row.idleTtl ?? defaultIdleTtl,
    persistent: row.persistent,
    revokedAt: row.revokedAt,
    ip: row.ip,
    userAgent: row.userAgent,
    lastIp: row.lastIp,
    lastUserAgent: row.lastUserAgent,
  };
}

/** Applies `change` to a live session under its row lock; `null` when it is unknown, revoked or expired. */
export async function updateLive(manager: SessionManager, handle: unknown, change: (row: SessionRecord) => SessionUpdate): Promise<SessionRecord | null> {
  const valid = checkHandle(handle);
  if (!valid) return null;
  const updated = await manager.guard("update a session", () =>
    manager.store.updateSession(valid, (row) => {
      if (row.revokedAt !== null || !isLive(row, manager.now())) return { result: null };
      const update = change(row);
      return { update, result: { ...row, ...update } };
    }),
  );
  return updated ?? null;
}

function cursorPosition(cursor: unknown): { createdAt: number; handle: string } | undefined {
  if (cursor === undefined) return undefined;
  const match = typeof cursor === "string" ? CURSOR.exec(cursor) : null;
  if (!match) throw new TypeError("latchkey: listSessions cursor must be the nextCursor of a previous page.");
  return { createdAt: Number(match[1]), handle: match[2] as string };
}
