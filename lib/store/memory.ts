import type {
  ClaimInvalidation,
  CreateOptions,
  Decision,
  ExpiredSession,
  ListPosition,
  RevocationPosition,
  RevokedHandle,
  RevokedSession,
  SessionMetadata,
  SessionRecord,
  SessionStore,
  SigningKeyRecord,
} from "./store";
import { metadataOf, revokedOf } from "./records";

/**
 * The embedded store: everything in this process's memory, lost on restart and not
 * shared between instances. For development and tests; `sessionMiddleware` refuses to
 * fall back to it when `NODE_ENV=production`.
 *
 * Every method does its work synchronously inside one call, so `updateSession` is
 * atomic without a lock: no other request can run between its read and its write.
 */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #keys = new Map<string, SigningKeyRecord>();
  readonly #secrets = new Map<string, Buffer>();
  readonly #invalidations = new Map<string, ClaimInvalidation>();

  async init(): Promise<void> {}

  async createSession(record: SessionRecord, options: CreateOptions = {}): Promise<RevokedSession[]> {
    if (this.#sessions.has(record.handle)) throw new Error("duplicate session handle");
    const evicted: RevokedSession[] = [];
    if (options.maxSessionsPerUser !== undefined) {
      const at = options.at ?? record.createdAt;
      const live = this.#liveOf(record.userId, at).sort((a, b) => a.lastRefreshedAt - b.lastRefreshedAt || compare(a.handle, b.handle));
      for (const row of live.slice(0, Math.max(0, live.length - options.maxSessionsPerUser + 1))) {
        row.revokedAt = at;
        evicted.push(revokedOf(row));
      }
    }
    this.#sessions.set(record.handle, copy(record));
    return evicted;
  }

  async findSession(handle: string): Promise<SessionRecord | null> {
    const row = this.#sessions.get(handle);
    return row ? copy(row) : null;
  }

  async updateSession<T>(handle: string, decide: (current: SessionRecord) => Decision<T>): Promise<T | null> {
    const row = this.#sessions.get(handle);
    if (!row) return null;
    const { update, result } = decide(copy(row));
    if (update) this.#sessions.set(handle, copy({ ...row, ...update }));
    return result;
  }

  async revokeSessionsOfUser(userId: string, clock: () => number, options: { except?: string } = {}): Promise<RevokedSession[]> {
    const revoked: RevokedSession[] = [];
    const at = clock();
    for (const row of this.#sessions.values()) {
      if (row.userId === userId && row.revokedAt === null && row.handle !== options.except) {
        row.revokedAt = at;
        revoked.push(revokedOf(row));
      }
    }
    return revoked;
  }

  async listForUser(userId: string, now: number, page: { limit: number; after?: ListPosition }): Promise<SessionMetadata[]> {
    const { after } = page;
    return this.#liveOf(userId, now)
      .sort(byCreation)
      .filter((row) => !after || byCreation(row, after) > 0)
      .slice(0, Math.max(0, page.limit))
      .map(metadataOf);
  }

  async listRevokedSince(since: RevocationPosition, limit: number): Promise<RevokedHandle[]> {
    const revoked: RevokedHandle[] = [];
    for (const row of this.#sessions.values()) {
      if (row.revokedAt === null) continue;
      const entry = { handle: row.handle, revokedAt: row.revokedAt };
      if (byRevocation(entry, since) > 0) revoked.push(entry);
    }
    return revoked.sort(byRevocation).slice(0, Math.max(0, limit));
  }

  async deleteExpired(now: number, limit: number): Promise<ExpiredSession[]> {
    const expired = [...this.#sessions.values()]
      .filter((row) => row.expiresAt <= now || row.absoluteExpiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      // A negative end would make slice() count from the back and delete all but a few.
      .slice(0, Math.max(0, limit));
    for (const row of expired) this.#sessions.delete(row.handle);
    return expired.map(({ handle, userId, revokedAt, ip, userAgent }) => ({ handle, userId, revokedAt, ip, userAgent }));
  }

  async invalidateClaim(userId: string, key: string, at: number): Promise<void> {
    const id = JSON.stringify([userId, key]);
    const previous = this.#invalidations.get(id);
    if (!previous || previous.invalidatedAt < at) this.#invalidations.set(id, { userId, key, invalidatedAt: at });
    for (const row of this.#sessions.values()) {
      if (row.userId !== userId || row.revokedAt !== null || !Object.hasOwn(row.accessTokenPayload, key)) continue;
      const payload = { ...row.accessTokenPayload };
      delete payload[key];
      row.accessTokenPayload = payload;
    }
  }

  async listClaimInvalidationsSince(since: number): Promise<ClaimInvalidation[]> {
    return [...this.#invalidations.values()].filter((entry) => entry.invalidatedAt >= since).map((entry) => ({ ...entry }));
  }

  async deleteClaimInvalidations(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, entry] of this.#invalidations) {
      if (entry.invalidatedAt < before) {
        this.#invalidations.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return [...this.#keys.values()].map((key) => ({ ...key }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    if (!this.#keys.has(key.kid)) this.#keys.set(key.kid, { ...key });
  }

  async deleteRetiredKeys(signsUntilBefore: number): Promise<number> {
    let deleted = 0;
    for (const [kid, key] of this.#keys) {
      if (key.signsUntil < signsUntilBefore) {
        this.#keys.delete(kid);
        deleted++;
      }
    }
    return deleted;
  }

  async getOrCreateSecret(name: string, candidate: Buffer): Promise<Buffer> {
    if (!this.#secrets.has(name)) this.#secrets.set(name, Buffer.from(candidate));
    return Buffer.from(this.#secrets.get(name) as Buffer);
  }

  async close(): Promise<void> {}

  #liveOf(userId: string, now: number): SessionRecord[] {
    return [...this.#sessions.values()].filter(
      (row) => row.userId === userId && row.revokedAt === null && row.expiresAt > now && row.absoluteExpiresAt > now,
    );
  }
}

// Handles compare as the MySQL column does (binary collation): by UTF-16 code unit,
// which for latchkey's ASCII handles is byte order.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byCreation(a: ListPosition, b: ListPosition): number {
  return a.createdAt - b.createdAt || compare(a.handle, b.handle);
}

function byRevocation(a: RevokedHandle, b: RevokedHandle): number {
  return a.revokedAt - b.revokedAt || compare(a.handle, b.handle);
}

// Records cross the store boundary by value, as they would through a database driver:
// a caller mutating what it got back must not change what is stored.
function copy(row: SessionRecord): SessionRecord {
  return {
    ...row,
    refreshTokenHash: Buffer.from(row.refreshTokenHash),
    prevRefreshTokenHash: row.prevRefreshTokenHash ? Buffer.from(row.prevRefreshTokenHash) : null,
    lineageHash: row.lineageHash ? Buffer.from(row.lineageHash) : null,
    accessTokenPayload: structuredClone(row.accessTokenPayload),
    sessionData: structuredClone(row.sessionData),
  };
}
